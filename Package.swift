// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "convbank",
    products: [
        // Everything a program embedding convbank needs; or depend on one layer alone.
        .library(name: "ConvBank", targets: ["ConvBankEngine", "ConvBankImageIO", "ConvBankPictures", "ConvBankBatch"]),
        .library(name: "ConvBankEngine", targets: ["ConvBankEngine"]),
        .executable(name: "convbank", targets: ["ConvBankCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The runtime of the committed onnx.pb.swift (scripts/generate_onnx_swift.sh); exact: generated code and
        // runtime must match. The library only: the plugin is never built here.
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // MARK: - C libraries (only CImageIO calls them)
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // zlib's streaming `deflate`, for PNGs written row band by row band (libdeflate compresses whole buffers only).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        // libwebpdemux too: the first frame of an animated WebP (WebPAnimDecoder).
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        // Keras .h5 / .weights.h5 models (Debian's serial build: headers in hdf5/serial, library hdf5_serial).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .target(
            name: "CImageIO",
            dependencies: ["CPNG", "CJPEG", "CDeflate", "CZlib", "CTIFF", "CWebP", "CHDF5"],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("deflate"), .linkedLibrary("z"),
                             .linkedLibrary("tiff"), .linkedLibrary("webp"), .linkedLibrary("webpdemux"), .linkedLibrary("hdf5_serial")]
        ),

        // MARK: - Library: four modules, each depending only on those above it
        // The convolution kernels (and map statistics), compiled for baseline x86-64, AVX2 and AVX-512 by target
        // attributes in the C source (no per-target compiler flags, so the library builds as a versioned
        // dependency); the engine picks one at run time.
        .target(name: "CConvKernels"),
        // Tensors, banks, geometry, plans and kernels: pure computation, no files, no environment.
        .target(name: "ConvBankEngine", dependencies: ["CConvKernels"]),
        // Decoders and encoders, map encoders, .npy, bank files, atomic files, paths as bytes, model files.
        .target(name: "ConvBankImageIO",
                dependencies: ["ConvBankEngine", "CImageIO", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Pictures for people: contact sheets, the gallery, explain pictures.
        .target(name: "ConvBankPictures", dependencies: ["ConvBankEngine", "ConvBankImageIO"]),
        // The batch runner: walk, shards, records and manifest, memory budget.
        .target(name: "ConvBankBatch", dependencies: ["ConvBankEngine", "ConvBankImageIO", "ConvBankPictures"]),

        // MARK: - Tool (glue only: parse, call, print)
        .executableTarget(
            name: "ConvBankCLI",
            dependencies: [
                "ConvBankEngine", "ConvBankImageIO", "ConvBankPictures", "ConvBankBatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(name: "ConvBankBench", dependencies: ["ConvBankEngine", "ConvBankImageIO", "ConvBankBatch"], path: "Sources/ConvBankBench"),

        // MARK: - Tests
        // What both test targets use: the process runner, the seeded random source and the independent .npy reader.
        // Foundation only (no library module), so the reader shares no code with what it checks; in no product.
        .target(name: "ConvBankTestSupport", path: "Tests/ConvBankTestSupport"),
        .testTarget(
            name: "ConvBankTests",
            // CTIFF and CWebP: libtiff and libwebp as independent readers of the encoders' files (Support/ReferenceReaders.swift).
            dependencies: ["ConvBankEngine", "ConvBankImageIO", "ConvBankPictures", "ConvBankBatch", "ConvBankTestSupport", "CTIFF", "CWebP"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ConvBankCLITests",
            dependencies: ["ConvBankCLI", "ConvBankEngine", "ConvBankImageIO", "ConvBankPictures", "ConvBankBatch", "ConvBankTestSupport"]
        ),
    ]
)
