// swift-tools-version:6.0
import PackageDescription

// The convolution kernels are compiled three times: portable (inside ConvBank), for AVX2 and for AVX-512;
// ConvBank picks one at run time from the CPU's features, so the default build runs on any x86-64 CPU.
#if arch(x86_64)
let avx2Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4"])]
#else
let avx2Flags: [SwiftSetting] = []
let avx512Flags: [SwiftSetting] = []
#endif

let package = Package(
    name: "convbank",
    products: [
        .library(name: "ConvBank", targets: ["ConvBank"]),
        .executable(name: "convbank", targets: ["ConvBankCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - C libraries (only CImageIO calls them)
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .target(
            name: "CImageIO",
            dependencies: ["CPNG", "CJPEG", "CDeflate"],
            cSettings: [.unsafeFlags(["-O3"])],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("deflate")]
        ),

        // MARK: - Library and tool
        .target(name: "ConvKernels"),
        .target(name: "ConvKernelsAVX2", dependencies: ["ConvKernels"], swiftSettings: avx2Flags),
        .target(name: "ConvKernelsAVX512", dependencies: ["ConvKernels"], swiftSettings: avx512Flags),
        .target(name: "ConvBank", dependencies: ["CImageIO", "ConvKernels", "ConvKernelsAVX2", "ConvKernelsAVX512"]),
        .executableTarget(
            name: "ConvBankCLI",
            dependencies: [
                "ConvBank",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(name: "ConvBankBench", dependencies: ["ConvBank"], path: "Sources/ConvBankBench"),

        // MARK: - Tests
        .testTarget(name: "ConvBankTests", dependencies: ["ConvBank"], exclude: ["Fixtures"]),
        .testTarget(name: "ConvBankCLITests", dependencies: ["ConvBankCLI", "ConvBank"]),
    ]
)
