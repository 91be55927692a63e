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
        .target(name: "ConvBank", dependencies: ["CImageIO"]),
        .executableTarget(
            name: "ConvBankCLI",
            dependencies: [
                "ConvBank",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        .testTarget(name: "ConvBankTests", dependencies: ["ConvBank"], exclude: ["Fixtures"]),
        .testTarget(name: "ConvBankCLITests", dependencies: ["ConvBankCLI", "ConvBank"]),
    ]
)
