import ConvBankEngine
import Foundation

/// How an input's files are placed under the output folder (`apply --layout`).
public enum OutputLayout: String, CaseIterable, Sendable {
    /// A folder per input: `DIR/<key>/<map>.<ext>` (the default).
    case tree
    /// The input tree mirrored file for file: `DIR/<key>.<map>.<ext>`, or `DIR/<key>.<ext>` when the bank writes
    /// exactly one map.
    case flat
}

/// Where every file of an input goes, relative to the output folder: the one owner of the path rule, used by the
/// batch (maps, partial maps, sheet, resume record, stale temporaries), the walk (name collisions), the gallery and
/// the statistics.
///
/// An input's *key* is its path relative to its folder argument with the extension dropped (see `InputWalk` for
/// collisions). With `.tree` its files are `<key>/<stem>.<ext>` and its record `<key>/.convbank-record.json`; with
/// `.flat` they are `<key>.<stem>.<ext>` — `<key>.<ext>` for the map of a bank that writes one map — and its record
/// is the hidden `<folder of key>/.<last component of key>.convbank-record.json`. Partial maps keep their
/// `<filter>.c<k>` stems in both. The contact sheet is `<key>.sheet.png` in both — except for a network's
/// `--layers` run (`sheetLayers`), which draws one sheet per written layer beside that layer's folder of maps:
/// `<key>/<layer>.sheet.png` in a tree (beside `<key>/<layer>/`), `<key>.<layer>.sheet.png` flat (beside
/// `<key>.<layer>/`). With `thumbnails` (the gallery),
/// each map (not partial map) also has a thumbnail: its path with the extension replaced by `.png`, under
/// `RunFiles.thumbnailFolder` (`index.thumbs/<key>/<map>.png`, flat `index.thumbs/<key>.<map>.png`).
///
/// A flat file always ends in its format's extension, so it can never be one of the run's own files (`*.jsonl`,
/// `*.csv`, `*.html`, see `RunFiles`), nor, starting with the key, a hidden temporary of another file.
public struct OutputPaths: Sendable, Equatable {
    /// The layout.
    public var layout: OutputLayout
    /// Stems of the files each input writes, in order: its maps (the bank's `outputNames`), then its partial maps.
    public var stems: [String]
    /// How many of `stems` are maps (the rest are partial maps).
    public var mapCount: Int
    /// The maps' file extension, without the dot (`png`, `npy`).
    public var fileExtension: String
    /// Whether each input also gets a contact sheet.
    public var sheet: Bool
    /// Whether each input's maps also get gallery thumbnails (`thumbnailFiles(key:)`).
    public var thumbnails: Bool
    /// With a network's `--layers`: the written layers, in order, each with its own contact sheet
    /// (`sheetFiles(key:)`); nil: one sheet per input (`sheetFile(key:)`).
    public var sheetLayers: [String]?

    /// The record file's name inside a tree key's folder.
    static let recordName = ".convbank-record.json"
    /// What the contact sheet adds to the key.
    public static let sheetSuffix = ".sheet.png"

    /// Paths for inputs whose maps are `mapNames` (then `partialNames`), files of `fileExtension`, in `layout`.
    /// - Parameters:
    ///   - layout: tree or flat.
    ///   - mapNames: the maps' stems (`<layer>/<map>` for a network's `--layers`).
    ///   - partialNames: the partial maps' stems.
    ///   - fileExtension: the maps' extension, without the dot.
    ///   - sheet: whether contact sheets are drawn.
    ///   - thumbnails: whether gallery thumbnails are made.
    ///   - sheetLayers: a network's written layers, each with its own sheet; nil for one sheet per input.
    public init(layout: OutputLayout, mapNames: [String], partialNames: [String] = [], fileExtension: String, sheet: Bool,
                thumbnails: Bool = false, sheetLayers: [String]? = nil) {
        self.sheetLayers = sheetLayers
        self.layout = layout
        self.stems = mapNames + partialNames
        self.mapCount = mapNames.count
        self.fileExtension = fileExtension
        self.sheet = sheet
        self.thumbnails = thumbnails
    }

    /// What follows the key in file `k` (`/<stem>.<ext>` in a tree; `.<stem>.<ext>` or, for a single map, `.<ext>`
    /// flat).
    func tail(_ k: Int) -> String {
        switch layout {
        case .tree: "/" + stems[k] + "." + fileExtension
        case .flat: mapCount == 1 && k == 0 ? "." + fileExtension : "." + stems[k] + "." + fileExtension
        }
    }

    /// The maps, then the partial maps, of the input with output key `key`.
    public func mapFiles(key: String) -> [String] { stems.indices.map { key + tail($0) } }

    /// The contact sheet of the input with output key `key` (a run without `sheetLayers`).
    public func sheetFile(key: String) -> String { key + Self.sheetSuffix }

    /// The contact sheet of layer `layer` of the input with output key `key` (a run with `sheetLayers`): beside the
    /// layer's folder of maps, `<key>/<layer>.sheet.png` (tree) or `<key>.<layer>.sheet.png` (flat).
    public func sheetFile(key: String, layer: String) -> String {
        layout == .tree ? key + "/" + layer + Self.sheetSuffix : key + "." + layer + Self.sheetSuffix
    }

    /// The contact sheets the input with output key `key` gets: none without `sheet`; one per layer of
    /// `sheetLayers`; else `sheetFile(key:)`.
    public func sheetFiles(key: String) -> [String] {
        guard sheet else { return [] }
        guard let sheetLayers else { return [sheetFile(key: key)] }
        return sheetLayers.map { sheetFile(key: key, layer: $0) }
    }

    /// Every file the input with output key `key` writes: `mapFiles(key:)`, then the sheets (when drawn), then the
    /// thumbnails (when made).
    public func files(key: String) -> [String] { mapFiles(key: key) + sheetFiles(key: key) + thumbnailFiles(key: key) }

    /// The gallery thumbnails of the input with output key `key` (none without `thumbnails`), one per map in map
    /// order: each map's path with its extension replaced by `.png`, under `RunFiles.thumbnailFolder`. Unique as the
    /// maps' paths are (all of one extension); a top-level input folder of that name gets another key (`InputWalk`).
    public func thumbnailFiles(key: String) -> [String] {
        guard thumbnails else { return [] }
        return (0..<mapCount).map { RunFiles.thumbnailFolder + "/" + key + String(tail($0).dropLast(fileExtension.count + 1)) + ".png" }
    }

    /// The input's resume record, written after all its files (see `RunRecord`).
    public func recordFile(key: String) -> String {
        switch layout {
        case .tree:
            return key + "/" + Self.recordName
        case .flat:
            let slash = key.lastIndex(of: "/")
            let folder = slash.map { String(key[...$0]) } ?? ""
            let last = slash.map { String(key[key.index(after: $0)...]) } ?? key
            return folder + "." + last + Self.recordName
        }
    }

    /// Tree: the file names each input writes inside its own folder (its maps and partial maps, and the layers'
    /// sheets of a `sheetLayers` run).
    var leaves: Set<String> {
        guard layout == .tree else { return [] }
        return Set(stems.map { $0 + "." + fileExtension } + (sheet ? (sheetLayers ?? []).map { $0 + Self.sheetSuffix } : []))
    }

    /// Flat: what each input's files add to its key (maps, partial maps, sheets).
    var suffixes: Set<String> {
        guard layout == .flat else { return [] }
        return Set(stems.indices.map(tail) + sheetFiles(key: "").map { String($0) })
    }

    /// Tree: what each input writes beside its folder (its one sheet), if anything.
    var besideSuffix: String? { layout == .tree && sheet && sheetLayers == nil ? Self.sheetSuffix : nil }
}

extension ApplySettings {
    /// Where an input's files go for `bank` under these settings (`layout`, `format`, `partials`, `sheet`, `thumbnails`).
    public func outputPaths(bank: FilterBank) -> OutputPaths {
        var partialNames: [String] = []
        if partials { for f in bank.filters.indices { partialNames += bank.partialNames(of: f) } }
        let sheetLayers = network?.layers.map { $0.map { network!.network.layers[$0].name } }
        return OutputPaths(layout: layout, mapNames: bank.outputNames, partialNames: partialNames, fileExtension: format.fileExtension,
                           sheet: sheet != nil, thumbnails: thumbnails, sheetLayers: sheetLayers)
    }
}
