import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// PNG level 1 (the default) is written by convbank's own run-length zlib encoder (`deflate_rle.c`); libpng and
/// zlib, which share no code with it, must read back exactly the samples given, whatever their shape and runs.
@Suite("Run-length PNG encoder")
struct RunLengthPNGTests {
    func roundTrip(_ samples: [UInt8], width: Int, height: Int, _ label: String) throws {
        let png = try ImageCodec.encodePNG(gray8: samples, width: width, height: height, level: 1)
        let decoded = try ImageCodec.decode(bytes: png, path: label)
        #expect(decoded.tensor.extent == Extent2D(height: height, width: width), "\(label)")
        #expect(decoded.tensor.storage == samples.map(Float.init), "\(label)")
        // The same samples at libdeflate's level 2 decode the same (the two encoders differ only in bytes).
        let other = try ImageCodec.decode(bytes: ImageCodec.encodePNG(gray8: samples, width: width, height: height, level: 2), path: label)
        #expect(other.tensor.storage == decoded.tensor.storage, "\(label)")
    }

    @Test func runsOfEveryLengthAndBlockBoundaries() throws {
        // Runs around the length codes' edges (3…10, 11, 18, 34, 66, 130, 257, 258, 259) and a row of runs long
        // enough to cross the encoder's 256 KiB blocks.
        var row: [UInt8] = []
        for (k, length) in [1, 2, 3, 4, 10, 11, 12, 18, 19, 34, 35, 66, 67, 130, 131, 227, 257, 258, 259, 600, 1].enumerated() {
            row += [UInt8](repeating: UInt8(k * 11 % 256), count: length)
        }
        try roundTrip(row, width: row.count, height: 1, "runs")
        let width = 1000, height = 700  // 700 KB: three blocks
        let striped: [UInt8] = (0..<(width * height)).map { (i: Int) -> UInt8 in (i / 37) % 3 == 0 ? 0 : UInt8((i / 5) % 256) }
        try roundTrip(striped, width: width, height: height, "blocks")
        try roundTrip([UInt8](repeating: 0, count: 4096 * 300), width: 4096, height: 300, "all zero")
        try roundTrip([200], width: 1, height: 1, "one pixel")
    }

    @Test(arguments: 0..<12)
    func randomImagesOfManyKinds(_ seed: Int) throws {
        var rng = SeededRandom(seed: 0x9E1_0000 + UInt64(seed))
        let width = rng.int(1...700), height = rng.int(1...300)
        let kind = seed % 4
        let samples: [UInt8] = (0..<(width * height)).map { i in
            switch kind {
            case 0: UInt8(rng.below(256))                                 // noise: literals only
            case 1: rng.chance(0.9) ? 0 : UInt8(rng.below(256))           // sparse edges: long runs of zero
            case 2: UInt8((i % width) / max(width / 7, 1) * 30 % 256)     // bands: runs broken by rows
            default: rng.chance(0.5) ? UInt8(i / 97 % 256) : UInt8(rng.below(4))
            }
        }
        try roundTrip(samples, width: width, height: height, "seed \(seed)")
    }
}
