// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "convbank",
    products: [
        .library(name: "ConvBank", targets: ["ConvBank"]),
        .executable(name: "convbank", targets: ["ConvBankCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C libraries (only CImageIO calls them)
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .target(
            name: "CImageIO",
            dependencies: ["CPNG", "CJPEG", "CDeflate"],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("deflate")]
        ),

        // MARK: - Library and tool
        // The convolution kernels, compiled for baseline x86-64, AVX2 and AVX-512 by target attributes in the C
        // source (no per-target compiler flags, so the library builds as a versioned dependency); ConvBank picks
        // one at run time.
        .target(name: "CConvKernels"),
        .target(name: "ConvBank", dependencies: ["CImageIO", "CConvKernels"]),
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
