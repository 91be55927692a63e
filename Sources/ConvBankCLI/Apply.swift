import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a bank over images and write one map per filter: DIR/<input path without extension>/<filter>.<ext> (--layout flat: DIR/<input path without extension>.<filter>.<ext>).",
            discussion: """
                Folders are walked recursively in name order (.png .jpg .jpeg .tif .tiff .webp, any letter case; hidden \
                names skipped; other files are passed over and counted in the closing summary). A file given as an \
                argument is read whatever its name: the bytes decide the format (PNG, JPEG, TIFF, WebP). \
                A bad input prints one line on stderr and the rest go on; the exit status is then 1. \
                Every file is written under a temporary name and renamed, so it is complete or absent.
                """)

        @Argument(help: "Images (PNG, JPEG, TIFF, WebP, told apart by their bytes) or folders.")
        var inputs: [String]

        @OptionGroup var bankOptions: BankOptions

        @Option(name: .shortAndLong, help: ArgumentHelp("Output folder (created if missing).", valueName: "dir"))
        var output: String

        @Option(help: "Where each input's maps go: tree = DIR/<input path without extension>/<filter>.<ext>; flat = DIR/<input path without extension>.<filter>.<ext>, or DIR/<input path without extension>.<ext> when the bank writes one map (a mirror of the input tree).")
        var layout: OutputLayout = .tree

        @Option(help: "Output format: png (8-bit gray), png16 (16-bit gray), npy (float32, values before normalization), jpeg (8-bit, .jpg), webp (8-bit, lossless unless --quality), tiff (float32 values before normalization, .tif), tiff16 (16-bit, .tif).")
        var format: OutputFormat = .png

        @Option(help: ArgumentHelp("JPEG or WebP quality, 1-100. jpeg: default 90; webp: lossy at this quality (without it, lossless). Only with --format jpeg or webp.", valueName: "q"))
        var quality: Int?

        @Option(help: "How png/png16/jpeg/webp/tiff16 map values to gray levels.")
        var normalize: Normalization = .clamp

        @Option(help: "Worker threads (default: all cores of this machine).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(help: ArgumentHelp("Only inputs of shard K (0-based) of N: disjoint shards whose union is the whole run. Default inside a Slurm job array: the task's shard (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT).", valueName: "k/n"))
        var shard: Shard?

        @Option(help: "Refuse images with more pixels than this (checked from the header, before decoding).")
        var maxPixels = ImageCodec.defaultMaxPixels

        @Option(help: ArgumentHelp("Refuse an input (one error line; the batch goes on) when decoding and filtering it would need more memory than this, worked out from its header before anything is allocated. Default: three quarters of this machine's memory (or of the cgroup's limit).", valueName: "size"))
        var maxMemory = ByteCount(bytes: MemoryBudget.defaultBytes)

        @Option(help: "PNG compression level: 0 (stored) to 12 (smallest); 1 is convbank's fast run-length encoder (about zlib level 6's size), 2-12 are libdeflate's.")
        var pngLevel = MapEncoder.defaultPNGLevel

        @Flag(help: "Write DIR/stats.csv (stats.shard-K-of-N.csv with --shard): per input and filter, min, max, mean, std and the fraction of zero outputs.")
        var stats = false

        @Flag(help: "Write a contact sheet per input, DIR/<input path without extension>.sheet.png: the input and every map, each stretched over its own range (0.5-99.5 %ile when rare extremes would flatten it), labelled. With a network's --layers: one sheet per written layer beside its folder of maps, DIR/<input path without extension>/<layer>.sheet.png (flat: DIR/<…>.<layer>.sheet.png), at most 256 maps each.")
        var sheet = false

        @Option(help: "Colour map of contact sheets.")
        var colormap: Colormap = .gray

        @Flag(help: "Write DIR/index.html (index.shard-K-of-N.html with --shard): one section per input with its maps as thumbnails (DIR/index.thumbs/..., each stretched over its map's own range, loaded lazily, linking to the full-size map), names and min/max/mean; past --gallery-page-size inputs, more pages (index.page-2.html, ...) linked from the first.")
        var gallery = false

        @Option(help: ArgumentHelp("Inputs per gallery page.", valueName: "n"))
        var galleryPageSize = Gallery.defaultPageSize

        @Flag(help: "Also write each filter's per-channel partial maps, DIR/<key>/<filter>.c<k>.<ext>: input channel k cross-correlated with its kernel slice, before bias and activation. Their sum in channel order, plus the bias, through the activation, is the filter's map.")
        var partials = false

        @Flag(help: "Run every filter of a one-channel bank on each colour channel on its own (Keras DepthwiseConv2D, depth multiplier 1): each filter gives one colour result (gray stays gray, RGB and palette give RGB, alpha dropped), an RGB PNG or an npy of shape (H, W, C); minmax and symmetric take one range over the result's channels. Not with --partials.")
        var perChannel = false

        @Option(help: ArgumentHelp("With a network file as --bank: write these layers' maps (layer names, comma-separated, or all) as DIR/<input path without extension>/<layer>/<map>.<ext> instead of the last layer's as DIR/<input path without extension>/<map>.<ext>. Maps of layers that are not banks are named f0, f1, … by channel.", valueName: "a,b,…|all"))
        var layers: String?

        @Option(help: ArgumentHelp("Preprocess the image before the bank or network sees it, before any padding, as Keras imagenet_utils.preprocess_input: none; caffe (RGB→BGR, minus 103.939, 116.779, 123.68); tf (x/127.5 − 1); torch (x/255, minus 0.485, 0.456, 0.406, divided by 0.229, 0.224, 0.225). Overrides the file's \"preprocess\".", valueName: "none|caffe|tf|torch"))
        var preprocess: String?

        @Flag(help: "Redo every input, even those whose outputs are complete and come from the same input bytes and settings.")
        var force = false

        @Flag(name: .shortAndLong, help: "Print nothing but errors.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1 (got \(jobs)).") }
            guard (0...12).contains(pngLevel) else { throw ValidationError("--png-level must be 0…12 (got \(pngLevel)).") }
            guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1 (got \(maxPixels)).") }
            guard !inputs.isEmpty else { throw ValidationError("give at least one image or folder.") }
            guard galleryPageSize >= 1 else { throw ValidationError("--gallery-page-size must be at least 1 (got \(galleryPageSize)).") }
            if let quality {
                guard format.takesQuality else {
                    throw ValidationError("--quality applies to --format jpeg or webp only (not \(format.rawValue)).")
                }
                guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1…100 (got \(quality)).") }
            }
            if let preprocess, Preprocess(name: preprocess) == nil {
                throw ValidationError("--preprocess must be one of \(Preprocess.modeNames.joined(separator: ", ")) (got '\(preprocess)').")
            }
        }

        /// The network run when `--bank` is a network file (with `--preprocess` and `--layers` applied), else nil.
        func networkSelection() throws -> NetworkSelection? {
            guard var network = try bankOptions.loadNetwork() else { return nil }
            if let mode = try Preprocess.option(preprocess, channels: network.channels, what: "network '\(network.name)'") {
                network.preprocess = mode
            }
            guard let layers else { return NetworkSelection(network: network) }
            do { return try NetworkSelection(network: network, layerList: layers) } catch { throw CLIError.usage(error.description) }
        }

        func run() throws {
            var settings = ApplySettings()
            settings.format = format
            settings.quality = quality
            settings.normalization = normalize
            settings.pngLevel = pngLevel
            settings.maxPixels = maxPixels
            settings.maxMemory = maxMemory.bytes
            settings.jobs = jobs
            settings.kernels = .fromEnvironment
            settings.sheet = sheet ? colormap : nil
            settings.partials = partials
            settings.layout = layout
            settings.perChannel = perChannel
            let bank: FilterBank
            if let selection = try networkSelection() {
                settings.network = selection
                bank = selection.standInBank
            } else {
                if layers != nil { throw CLIError.usage("--layers picks layers of a network file; '\(bankOptions.bank)' is a bank") }
                bank = try bankOptions.load()
                settings.preprocess = preprocess.flatMap(Preprocess.init(name:))
            }
            // Arguments keep their exact bytes (a name that is not UTF-8 included): the output folder too.
            let arguments = FileSystem.commandLineArguments(self.inputs + [self.output])
            let run: ApplyRun
            do {
                run = try ApplyRun(bank: bank, settings: settings, inputs: Array(arguments.dropLast()), output: arguments.last!,
                                   shard: shard, environment: ProcessInfo.processInfo.environment, force: force, statistics: stats, gallery: gallery,
                                   galleryPageSize: galleryPageSize)
            } catch {
                switch error {
                case .usage(let text): throw CLIError.usage(text)
                case .failure(let text): throw CLIError.failure(text)
                }
            }
            if let source = run.shardSource, let shard = run.shard, !quiet { printError("taking shard \(shard) from the \(source); --shard overrides it") }
            var progress = Progress(total: run.count(), quiet: quiet)
            let outcome = run.run { event in
                if let report = event.report { progress.record(report) }
                for message in event.messages where message.kind == .error || !quiet {
                    progress.clearLine()
                    printError("\(message.kind): \(message.text)")
                }
                if event.report != nil { progress.show() }
            }
            progress.finish(shard: run.shard, problems: outcome.unreadable, passedOver: outcome.passedOver)
            if progress.failed + outcome.unreadable + outcome.failedWrites > 0 { throw CLIError.inputsFailed }
        }
    }
}

/// The live progress line (a terminal) or periodic lines (a pipe or file) on standard error, and the closing
/// summary.
struct Progress {
    let total: Int
    let quiet: Bool
    let terminal = isatty(2) == 1
    let started = Date()
    var done = 0, succeeded = 0, skipped = 0, failed = 0
    var pixels = 0
    var lastShown = Date.distantPast
    var lineShown = false

    init(total: Int, quiet: Bool) {
        self.total = total
        self.quiet = quiet
    }

    mutating func record(_ report: ItemReport) {
        done += 1
        switch report.status {
        case .ok: succeeded += 1; pixels += report.pixels
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
    }

    /// Erases the live line before an error or warning line.
    mutating func clearLine() {
        if terminal && lineShown {
            StandardStreams.writeError("\r\u{1B}[K")
            lineShown = false
        }
    }

    var line: String {
        let seconds = max(Date().timeIntervalSince(started), 1e-9)
        let rate = Double(done) / seconds
        let mp = Double(pixels) / 1e6
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return String(format: "%d/%d inputs, %.1f images/s, %.1f MP/s, ETA %@, %d failed%@", done, total, rate, mp / seconds,
                      duration(eta), failed, skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// On a terminal: redraws the line (at most 10 times a second). Otherwise: one line every 10 seconds.
    mutating func show() {
        guard !quiet else { return }
        let now = Date()
        if terminal {
            guard now.timeIntervalSince(lastShown) >= 0.1 || done == total else { return }
            StandardStreams.writeError("\r\u{1B}[Kconvbank: \(line)")
            lineShown = true
        } else {
            if lastShown == .distantPast { lastShown = started }  // the first line 10 s after the start
            guard now.timeIntervalSince(lastShown) >= 10, done < total else { return }
            printError(line)
        }
        lastShown = now
    }

    /// The closing summary line; `passedOver` other files are named at its end (`…; 3 other files passed over`).
    mutating func finish(shard: Shard?, problems: Int, passedOver: Int) {
        clearLine()
        guard !quiet else { return }
        let seconds = Date().timeIntervalSince(started)
        let mp = Double(pixels) / 1e6
        printError(String(format: "%d input%@: %d succeeded, %d skipped, %d failed; %.1f MP in %.2f s (%.1f MP/s)%@%@",
                          total, total == 1 ? "" : "s", succeeded, skipped, failed, mp, seconds, seconds > 0 ? mp / seconds : 0,
                          problems > 0 ? ", \(problems) unreadable argument\(problems == 1 ? "" : "s") or folder\(problems == 1 ? "" : "s")" : "",
                          shard.map { ", shard \($0)" } ?? "")
                   + (passedOver > 0 ? "; \(passedOver) other file\(passedOver == 1 ? "" : "s") passed over" : ""))
    }
}

/// `95` → `1m35s`.
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
}
