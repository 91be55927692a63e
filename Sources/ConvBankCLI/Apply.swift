import ArgumentParser
import ConvBank
import Foundation

extension Convbank {
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a bank over images and write one map per filter: DIR/<input path without extension>/<filter>.<ext>.",
            discussion: """
                Folders are walked recursively in name order (.png .jpg .jpeg, any letter case; hidden names skipped). \
                A bad input prints one line on stderr and the rest go on; the exit status is then 1. \
                Every file is written under a temporary name and renamed, so it is complete or absent.
                """)

        @Argument(help: "Images (.png .jpg .jpeg) or folders.")
        var inputs: [String]

        @OptionGroup var bankOptions: BankOptions

        @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "dir"))
        var output: String

        @Option(help: "Output format: png (8-bit gray), png16 (16-bit gray), npy (float32, values before normalization).")
        var format: OutputFormat = .png

        @Option(help: "How png/png16 map values to gray levels.")
        var normalize: Normalization = .clamp

        @Option(help: "Worker threads (default: all cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(help: ArgumentHelp("Only inputs of shard K (0-based) of N: disjoint shards whose union is the whole run. Default inside a Slurm job array: the task's shard (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT).", valueName: "k/n"))
        var shard: Shard?

        @Option(help: "Refuse images with more pixels than this (checked from the header, before decoding).")
        var maxPixels = ImageCodec.defaultMaxPixels

        @Option(help: "PNG compression level: 0 (stored) to 12 (smallest); 1 is fast and within a few % of zlib's level 6.")
        var pngLevel = ApplySettings.defaultPNGLevel

        @Flag(help: "Write DIR/stats.csv: per input and filter, min, max, mean, std and the fraction of zero outputs.")
        var stats = false

        @Flag(help: "Write a contact sheet per input, DIR/<input path without extension>.sheet.png: the input and every map, each scaled from its own min to max, labelled.")
        var sheet = false

        @Option(help: "Colour map of contact sheets.")
        var colormap: Colormap = .gray

        @Flag(help: "Write DIR/index.html: one row per input with its maps as thumbnails (linking to full size), names and min/max/mean. Needs png or png16 maps.")
        var gallery = false

        @Flag(name: .shortAndLong, help: "Print nothing but errors.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1 (got \(jobs)).") }
            guard (0...12).contains(pngLevel) else { throw ValidationError("--png-level must be 0…12 (got \(pngLevel)).") }
            guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1 (got \(maxPixels)).") }
            guard !inputs.isEmpty else { throw ValidationError("give at least one image or folder.") }
            guard !gallery || format != .npy else {
                throw ValidationError("--gallery shows png or png16 maps; with --format npy add --sheet and open the sheets instead.")
            }
        }

        func run() throws {
            let bank = try bankOptions.load()
            var settings = ApplySettings()
            settings.format = format
            settings.normalization = normalize
            settings.pngLevel = pngLevel
            settings.maxPixels = maxPixels
            settings.jobs = jobs
            settings.statistics = stats || gallery
            settings.sheet = sheet ? colormap : nil

            var isDirectory = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), !isDirectory {
                printError("error: output '\(output)' exists and is not a folder")
                throw ExitCode(1)
            }
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                printError("error: cannot create output folder '\(output)'")
                throw ExitCode(1)
            }
            let names = bank.filters.map { "\($0.name).\(format.fileExtension)" }
            let collection = InputCollection(arguments: inputs, exclude: output) { key in
                names.map { key + "/" + $0 } + (sheet ? [ApplySettings.sheetPath(key: key)] : [])
            }
            var failed = collection.problems.count
            for problem in collection.problems { printError("error: \(problem)") }
            var shard = self.shard
            if shard == nil, let detected = Shard.fromEnvironment(ProcessInfo.processInfo.environment) {
                shard = detected.shard
                if !quiet { printError("taking shard \(detected.shard) from the \(detected.source); --shard overrides it") }
            }
            let items = collection.items.filter { shard?.contains($0) ?? true }
            let started = Date()
            var succeeded = 0, pixels = 0
            var statsRows: [String] = []
            var warnedClipping = false
            var galleryRows: [Gallery.Row] = []
            let ahead = DecodeAhead(items: items, maxPixels: maxPixels)
            for (index, item) in items.enumerated() {
                do {
                    let result = try applyBank(bank, to: item, outputRoot: output, settings: settings, decoded: ahead.take(index))
                    if gallery {
                        let maps = zip(bank.filters, result.statistics).map { filter, s in
                            Gallery.MapEntry(name: filter.name, file: item.key + "/" + filter.name + "." + format.fileExtension, statistics: s)
                        }
                        galleryRows.append(Gallery.Row(title: item.path, sheet: sheet ? ApplySettings.sheetPath(key: item.key) : nil, maps: maps))
                    }
                    succeeded += 1
                    pixels += result.pixels
                    for (filter, s) in zip(bank.filters, result.statistics) {
                        if stats {
                            statsRows.append([csvField(item.path), csvField(filter.name), "\(s.minimum)", "\(s.maximum)",
                                              "\(Float(s.mean))", "\(Float(s.standardDeviation))", "\(Float(s.zeroFraction))"].joined(separator: ","))
                        }
                    }
                    if format == .png, normalize == .clamp, !quiet, !warnedClipping {
                        let clipped = zip(bank.filters, result.clippedFractions).filter { $0.1 > 0.5 }
                        if !clipped.isEmpty {
                            warnedClipping = true
                            let list = clipped.map { "\($0.0.name) \(Int(($0.1 * 100).rounded()))%" }
                            printError("warning: --normalize clamp clipped most of '\(item.path)' to 0 or 255 in \(list.joined(separator: ", ")); --normalize abs, symmetric or minmax shows the whole range")
                        }
                    }
                } catch {
                    failed += 1
                    printError("error: \(error)")
                    if gallery { galleryRows.append(Gallery.Row(title: item.path, maps: [], error: "\(error)")) }
                }
            }
            if gallery {
                let page = Gallery.html(bankName: bank.name, rows: galleryRows)
                do { try AtomicFile.write(Array(page.utf8), to: (output as NSString).appendingPathComponent("index.html")) } catch {
                    failed += 1
                    printError("error: \(error)")
                }
            }
            if stats {
                let text = "input,filter,min,max,mean,std,zero_fraction\n" + statsRows.map { $0 + "\n" }.joined()
                do { try AtomicFile.write(Array(text.utf8), to: (output as NSString).appendingPathComponent("stats.csv")) } catch {
                    failed += 1
                    printError("error: \(error)")
                }
            }
            if !quiet {
                let seconds = Date().timeIntervalSince(started)
                let mp = Double(pixels) / 1e6
                printError(String(format: "%d input%@: %d succeeded, %d failed; %.1f MP in %.2f s (%.1f MP/s)%@",
                                  items.count, items.count == 1 ? "" : "s", succeeded, failed - collection.problems.count,
                                  mp, seconds, seconds > 0 ? mp / seconds : 0,
                                  shard.map { ", shard \($0)" } ?? ""))
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
