// swift-tools-version:6.0
// A program that uses convbank as a library, the way another package does: by version from the git repository
// at CONVBANK_PACKAGE_URL (tag 0.3.0 or later), or from this checkout by path when that is unset.
import PackageDescription

/// SwiftPM names a dependency by the last component of its URL or path (without `.git`).
func identity(_ location: String) -> String {
    let last = location.split(separator: "/").last.map(String.init) ?? location
    return last.hasSuffix(".git") ? String(last.dropLast(4)) : last
}

let convbank: Package.Dependency
let convbankIdentity: String
if let url = Context.environment["CONVBANK_PACKAGE_URL"], !url.isEmpty {
    convbank = .package(url: url, from: "0.3.0")
    convbankIdentity = identity(url)
} else {
    convbank = .package(path: "../..")
    convbankIdentity = identity(String(Context.packageDirectory.split(separator: "/").dropLast(2).joined(separator: "/")))
}

let package = Package(
    name: "library-consumer",
    dependencies: [convbank],
    targets: [
        .executableTarget(
            name: "library-consumer",
            dependencies: [.product(name: "ConvBank", package: convbankIdentity)]
        ),
    ]
)
