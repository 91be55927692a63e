import ConvBankEngine
import Foundation
internal import CImageIO

/// SHA-256 digests, as lowercase hex (what `sha256sum` prints).
package enum SHA256 {
    /// The digest of `bytes`. The corresponding C function is `cio_sha256`.
    /// - Complexity: O(bytes.count).
    package static func hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { cio_sha256(input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count, $0.baseAddress!) }
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
