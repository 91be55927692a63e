import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// The resume fingerprint's canonical encoding: equal banks encode equally whatever form or printer they came from;
/// anything that changes an output changes it; nothing else does.
@Suite struct SettingsEncodingTests {
    static let perFilter = #"{"name": "b", "padding": "same", "filters": [{"name": "f0", "weights": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "bias": 0.5}]}"#
    /// The same layer as Keras `get_weights()`: kernel [kh][kw][C][F].
    static let hwio = #"{"name": "b", "padding": "same", "layout": "HWIO", "kernel": [[[[1], [5]], [[2], [6]]], [[[3], [7]], [[4], [8]]]], "bias": [0.5]}"#

    func bank(_ json: String) throws -> FilterBank { try FilterBank(json: Array(json.utf8), source: "t") }

    @Test func equalBanksEncodeEqually() throws {
        let settings = ApplySettings()
        let a = try bank(Self.perFilter), b = try bank(Self.hwio)
        #expect(a.filters == b.filters)
        #expect(settings.canonicalEncoding(bank: a) == settings.canonicalEncoding(bank: b))
        // The printer is not part of it: a bank printed and read back encodes the same.
        #expect(settings.canonicalEncoding(bank: try bank(a.jsonText)) == settings.canonicalEncoding(bank: a))
        #expect(settings.canonicalEncoding(bank: a).hasPrefix("convbank-settings 1\n"))
    }

    @Test func whatChangesAnOutputChangesTheEncoding() throws {
        let base = try bank(Self.perFilter)
        let settings = ApplySettings()
        let reference = settings.canonicalEncoding(bank: base)
        var nudged = base
        nudged.filters[0].weights[3] = nudged.filters[0].weights[3].nextUp
        var other = settings
        other.format = .npy
        var jobs = settings
        jobs.jobs = 7
        jobs.maxMemory = 1 << 30
        #expect(settings.canonicalEncoding(bank: nudged) != reference)
        #expect(settings.canonicalEncoding(bank: base.overriding(stride: Extent2D(height: 1, width: 2))) != reference)
        #expect(settings.canonicalEncoding(bank: base.overriding(paddingMode: .reflect)) != reference)
        #expect(other.canonicalEncoding(bank: base) != reference)
        #expect(jobs.canonicalEncoding(bank: base) == reference)
    }
}
