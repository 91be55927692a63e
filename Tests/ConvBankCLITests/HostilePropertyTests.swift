// The hostile-input property, through the real binary. For random banks and parameters drawn from the whole
// legal range and beyond it (JSON and CLI stride/dilation/padding up to and past 1e9 and Int.max, zero, negative,
// floats, huge kernels, 20,000-filter banks, built-ins such as `gaussian:sigma=1e-200`, malformed bank files),
// random hostile files (random bytes, truncated PNG/JPEG, zTXt floods and bombs, huge declared dimensions, hostile
// EXIF, …) and odd names (non-UTF-8, dangling links and loops, 240-character filter names, paths beyond PATH_MAX),
// every run of `apply`, `summary`, `explain` and `banks`:
//
// - ends by itself within its time limit, not by a signal, with exit status 0, 1 or 64;
// - peaks at most at CONVBANK_PROPERTY_MAX_RSS_MB of resident memory (default 1024; `apply` gets
//   `--max-memory 512M` when the binary has that option);
// - for `apply` with status 0 or 1: every input has maps in the output folder or is named on stderr; with 0,
//   stderr reports no error; with 64, no map was written;
// - writes nothing outside its output folder, and never reports a file the case made as missing.
//
// Seeded and bounded. Environment:
//   CONVBANK_PROPERTY_SEED      decimal or 0x…; default fixed (`defaultSeed`)
//   CONVBANK_PROPERTY_CASES     default 40: each of the 8 themes 5 times (case i has theme i % 8)
//   CONVBANK_PROPERTY_ONLY      e.g. 3,17: only those cases (each case is rebuilt from the seed and its number)
//   CONVBANK_PROPERTY_SECONDS   start no case after that long (`fuzz/property.sh`)
//   CONVBANK_PROPERTY_TIMEOUT   seconds per run, default 20 (plus 1 s per 1,000 filters)
//   CONVBANK_PROPERTY_MAX_RSS_MB   the RSS bound, default 1024
//   CONVBANK_PROPERTY_BINARY    another binary to test (e.g. a release build)
//   CONVBANK_PROPERTY_KEEP=DIR  keep each failing case's folder there, with a `command.sh` that reruns it
//   CONVBANK_PROPERTY_VERBOSE=1 print every run
// A failure names the seed, the case number, the command line (relative to the case folder) and stderr.

import ConvBankTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct HostilePropertyTests {
    static let defaultSeed: UInt64 = 0xC0_4B_A4_E5_0001

    /// The binary under test: CONVBANK_PROPERTY_BINARY (e.g. a release build), else the debug build.
    static var binary: String {
        ProcessInfo.processInfo.environment["CONVBANK_PROPERTY_BINARY"].flatMap { $0.isEmpty ? nil : $0 } ?? CLI.binary.path
    }

    struct Config {
        var seed = HostilePropertyTests.defaultSeed
        var cases = 40
        var only: [Int]? = nil
        var seconds: Double? = nil
        var maxRSSMiB = 1024
        var timeout = 20.0
        var keep: String? = nil
        var verbose = false

        static func fromEnvironment() -> Config {
            let env = ProcessInfo.processInfo.environment
            var c = Config()
            if let text = env["CONVBANK_PROPERTY_SEED"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                if text.lowercased().hasPrefix("0x") {
                    c.seed = UInt64(text.dropFirst(2), radix: 16) ?? c.seed
                } else {
                    // Any other text: its FNV-1a hash (String.hashValue differs from run to run).
                    c.seed = UInt64(text) ?? text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
                }
            }
            if let n = env["CONVBANK_PROPERTY_CASES"].flatMap({ Int($0) }), n >= 0 { c.cases = n }
            if let list = env["CONVBANK_PROPERTY_ONLY"], !list.isEmpty {
                c.only = list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
            if let s = env["CONVBANK_PROPERTY_SECONDS"].flatMap({ Double($0) }), s > 0 { c.seconds = s }
            if let m = env["CONVBANK_PROPERTY_MAX_RSS_MB"].flatMap({ Int($0) }), m > 0 { c.maxRSSMiB = m }
            if let t = env["CONVBANK_PROPERTY_TIMEOUT"].flatMap({ Double($0) }), t > 0 { c.timeout = t }
            if let k = env["CONVBANK_PROPERTY_KEEP"], !k.isEmpty { c.keep = k }
            c.verbose = env["CONVBANK_PROPERTY_VERBOSE"].map { !$0.isEmpty && $0 != "0" } ?? false
            return c
        }
    }

    /// What the binary accepts, from `apply --help`, `explain --help` and `summary --help`.
    static func probe(scratch: String) throws -> HostileProbe {
        func help(_ command: String) throws -> String {
            let outcome = try ProcessRunner.run(ProcessRunner.Command(
                Self.binary, bytes: [Array(command.utf8), Array("--help".utf8)], directory: scratch, environment: CLI.environment(),
                timeout: 20, killAboveKiB: 4 << 20, diskBudget: 1 << 30))
            return String(decoding: outcome.stdout + outcome.stderr, as: UTF8.self)
        }
        var probe = HostileProbe()
        probe.applyHelp = try help("apply")
        probe.applyMaxMemory = probe.applyHelp.contains("--max-memory")
        probe.explainMaxMemory = try help("explain").contains("--max-memory")
        probe.summaryMaxMemory = try help("summary").contains("--max-memory")
        return probe
    }

    @Test func hostileRunsKeepTheContract() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "the convbank binary is missing at \(Self.binary): run `swift build --build-tests` first")
        let config = Config.fromEnvironment()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-hostile-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { HostileFS.removeTree(base) }
        let probe = try Self.probe(scratch: base)
        let seedText = String(format: "0x%llx", config.seed)
        let indices = config.only ?? Array(0..<config.cases)
        print("HostilePropertyTests: seed \(seedText), \(config.only.map { "cases \($0)" } ?? "\(config.cases) cases"), "
              + "RSS bound \(config.maxRSSMiB) MiB, --max-memory \(probe.applyMaxMemory ? "passed to apply (\(probe.maxMemory))" : "not supported by this binary")"
              + (config.seconds.map { String(format: ", stopping after %.0f s", $0) } ?? ""))
        let clock = ContinuousClock()
        let start = clock.now
        var ran = 0
        var failures: [(index: Int, signature: String, message: String)] = []
        for index in indices {
            if let seconds = config.seconds, clock.now - start > .seconds(seconds) { break }
            ran += 1
            let result: [CaseFailure]
            do {
                result = try runCase(index: index, config: config, probe: probe, base: base)
            } catch {
                // A case the harness could not build or start is the test's own fault: say so and go on.
                Issue.record(error, "hostile case \(index) (seed \(seedText)) could not be built or run by the test itself")
                continue
            }
            for failure in result {
                failures.append((index, failure.signature, failure.message))
                Issue.record(Comment(rawValue: failure.message))
            }
            if config.seconds != nil, ran % 25 == 0 {
                print("HostilePropertyTests: \(ran) cases, \(Set(failures.map(\.index)).count) failing, \(Int((clock.now - start).components.seconds)) s")
            }
        }
        // One line per distinct cause (the kind of run, the first violation, the first telling stderr line).
        var groups: [String: [Int]] = [:]
        for f in failures { groups[f.signature, default: []].append(f.index) }
        var report = "HostilePropertyTests: seed \(seedText): \(ran) cases run, \(Set(failures.map(\.index)).count) failing, "
            + "\(groups.count) distinct failure signature\(groups.count == 1 ? "" : "s")"
        for (signature, cases) in groups.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }) {
            report += "\n  \(cases.count)× \(signature)  (cases \(cases.prefix(12).map(String.init).joined(separator: ", "))\(cases.count > 12 ? ", …" : ""))"
        }
        print(report)
    }

    struct CaseFailure { var signature: String; var message: String }

    /// Builds case `index`, runs each of its commands, and returns one failure per run that broke the property.
    func runCase(index: Int, config: Config, probe: HostileProbe, base: String) throws -> [CaseFailure] {
        let root = base + "/case-\(index)"
        let work = root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var keepIt = false
        defer { if !keepIt { HostileFS.removeTree(root) } }

        let seed = SeededRandom.caseSeed(config.seed, index)
        var builder = HostileCaseBuilder(work: work, probe: probe, seed: seed, baseTimeout: config.timeout)
        let hostileCase = try builder.build(index: index, seed: seed)
        let boundKiB = config.maxRSSMiB * 1024
        var failures: [CaseFailure] = []
        var transcript: [String] = []
        for (n, run) in hostileCase.runs.enumerated() {
            let outputComponents = run.output.map { $0.split(separator: 0x2F).map(Array.init) } ?? []
            let before = HostileFS.walk(work, skip: run.output)
            // Files already in the output folder (it may be the input folder) are not maps of this run.
            let outputBefore = Set(run.output == nil ? [] : HostileFS.walk(root: work, below: outputComponents).map(\.path))
            let outcome = try ProcessRunner.run(ProcessRunner.Command(
                Self.binary, bytes: run.arguments, directory: work, environment: CLI.environment(),
                timeout: run.timeout, killAboveKiB: 2 * boundKiB, diskBudget: 2 << 30))
            let after = HostileFS.walk(work, skip: run.output)
            let maps = run.output == nil ? []
                : HostileFS.walk(root: work, below: outputComponents).filter { $0.kind == .file && !outputBefore.contains($0.path) }
            let violations = Self.violations(run: run, outcome: outcome, boundKiB: boundKiB, before: before, after: after,
                                             outputComponents: outputComponents, maps: maps)
            let command = "convbank " + HostileText.command(run.arguments)
            transcript.append("# run \(n + 1): \(outcome.summary)\n\"$CONVBANK\" " + HostileText.command(run.arguments))
            if config.verbose {
                let lines = outcome.stderr.split(separator: 0x0A)
                let first = lines.first.map { HostileText.printable(Array($0.prefix(700))) } ?? ""
                let last = lines.count > 1 ? lines.last.map { " … " + HostileText.printable(Array($0.prefix(120))) } ?? "" : ""
                print("case \(index) [\(hostileCase.theme)] run \(n + 1): \(outcome.summary)\(violations.isEmpty ? "" : " VIOLATION")\n    \(command.prefix(400))\n    stderr: \(first)\(last)")
            }
            guard !violations.isEmpty else { continue }
            keepIt = config.keep != nil
            let seedText = String(format: "0x%llx", config.seed)
            var message = """
                hostile case \(index) [\(hostileCase.theme): \(hostileCase.variant)], run \(n + 1) of \(hostileCase.runs.count) (\(run.kind)):
                  reproduce: CONVBANK_PROPERTY_SEED=\(seedText) CONVBANK_PROPERTY_ONLY=\(index) swift test --skip-build --filter HostilePropertyTests
                  command, in the case folder: \(command)
                  outcome: \(outcome.summary)
                  violations:
                """
            for v in violations { message += "\n    - \(v)" }
            if !hostileCase.notes.isEmpty { message += "\n  case: " + hostileCase.notes.joined(separator: "; ") }
            if !run.expected.isEmpty {
                message += "\n  inputs: " + run.expected.map { "\(HostileText.printable($0.token)) = \($0.what)" }.joined(separator: "; ")
            }
            message += "\n  stderr:\n" + HostileText.excerpt(Self.withoutRegisterDump(outcome.stderr))
            failures.append(CaseFailure(signature: Self.signature(run: run, violations: violations, outcome: outcome), message: message))
        }
        if keepIt, let keep = config.keep {
            let destination = keep + "/seed-" + String(format: "%llx", config.seed) + "-case-\(index)"
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            HostileFS.removeTree(destination)
            let script = "#!/usr/bin/env bash\n# hostile case \(index), seed \(String(format: "0x%llx", config.seed)): \(hostileCase.theme), \(hostileCase.variant)\n"
                + "# \(hostileCase.notes.joined(separator: "\n# "))\n"
                + "# work/ is as the failing run left it: delete the output folder (or add --force) to start from scratch.\n"
                + "cd \"$(dirname \"$0\")/work\" && CONVBANK=\"${CONVBANK:-\(Self.binary)}\"\n" + transcript.joined(separator: "\n") + "\n"
            try? Data(script.utf8).write(to: URL(fileURLWithPath: root + "/command.sh"))
            chmod(root + "/command.sh", 0o755)
            if rename(root, destination) != 0 {
                _ = ProcessRunner.status("/bin/cp", ["-a", root, destination])
            }
        }
        return failures
    }

    /// Every way `outcome` breaks the property.
    static func violations(run: HostileRunSpec, outcome: ProcessRunner.Outcome, boundKiB: Int, before: [HostileFS.Entry], after: [HostileFS.Entry],
                           outputComponents: [[UInt8]], maps: [HostileFS.Entry]) -> [String] {
        var out: [String] = []
        if outcome.timedOut { out.append(String(format: "still running after %.0f s (hang or unbounded work); killed", run.timeout)) }
        if outcome.killedForMemory { out.append("RSS passed \(2 * boundKiB / 1024) MiB (twice the bound); killed") }
        if outcome.killedForDisk { out.append("wrote more than 2 GiB (outputs, stdout or stderr); killed") }
        if let signal = outcome.signal, !outcome.timedOut, !outcome.killedForMemory, !outcome.killedForDisk {
            out.append("terminated by signal \(signal) (\(ProcessRunner.signalName(signal)))")
        }
        if let code = outcome.exitCode, ![0, 1, 64].contains(code) { out.append("exit status \(code), not 0, 1 or 64") }
        if outcome.peakRSSKiB > boundKiB, !outcome.killedForMemory {
            out.append("peak RSS \(outcome.peakRSSKiB / 1024) MiB, over the \(boundKiB / 1024) MiB bound")
        }

        // A file the case made (an input, the image, the bank) exists: it may be refused, never reported missing.
        let lowered = outcome.stderr.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        if HostileText.contains(lowered, Array("no such file".utf8)) {
            for line in outcome.stderr.split(separator: 0x0A).map(Array.init) {
                let lower = line.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
                guard HostileText.contains(lower, Array("no such file".utf8)) else { continue }
                let existing = HostileText.tokens(in: line).subtracting(run.absentTokens)
                if !existing.isEmpty || HostileText.contains(line, Array("bank.json".utf8)) || HostileText.contains(line, Array("bank_".utf8)) {
                    out.append("reported an existing file as missing: \(HostileText.printable(Array(line.prefix(240))))")
                    break
                }
            }
        }

        if run.kind == .apply, let code = outcome.exitCode {
            let stderrLines = outcome.stderr.split(separator: 0x0A).map(Array.init)
            if code == 0 || code == 1 {
                let named = HostileText.tokens(in: outcome.stderr)
                var processed = Set<[UInt8]>()
                for entry in maps where isMap(entry.path, of: nil) { processed.formUnion(HostileText.tokens(in: entry.path)) }
                // Folders reported on their own: a line naming the folder's token and no input token.
                let inputTokens = Set(run.expected.map(\.token))
                var foldersReported = Set<[UInt8]>()
                for line in stderrLines {
                    let tokens = HostileText.tokens(in: line)
                    if tokens.isDisjoint(with: inputTokens) { foldersReported.formUnion(tokens) }
                }
                var missing: [String] = []
                for input in run.expected {
                    if named.contains(input.token) || processed.contains(input.token) { continue }
                    if let folder = input.folderToken, foldersReported.contains(folder) { continue }
                    missing.append("\(HostileText.printable(input.token)) (\(input.what))")
                }
                if !missing.isEmpty {
                    out.append("exit \(code), but \(missing.count) input\(missing.count == 1 ? " was" : "s were") neither processed (no map under the output folder) nor named on stderr: "
                               + missing.joined(separator: ", "))
                }
            }
            if code == 0 {
                let errors = stderrLines.filter { HostileText.contains($0, Array("error:".utf8)) }
                if !errors.isEmpty {
                    out.append("exit 0, but stderr reports \(errors.count) error line\(errors.count == 1 ? "" : "s"), e.g. \(HostileText.printable(Array(errors[0].prefix(200))))")
                }
            }
            if code == 64 {
                let inputTokens = Set(run.expected.map(\.token))
                let written = maps.filter { isMap($0.path, of: nil) && !HostileText.tokens(in: $0.path).isDisjoint(with: inputTokens) }
                if !written.isEmpty {
                    out.append("exit 64 (usage error: nothing processed), but \(written.count) map file\(written.count == 1 ? " was" : "s were") written, e.g. \(HostileText.printable(written[0].path))")
                }
            }
        }

        // Nothing outside the output folder may appear or vanish (the output folder's own ancestors may appear).
        let outputPath = outputComponents.isEmpty ? nil : outputComponents.dropFirst().reduce(outputComponents[0]) { $0 + [0x2F] + $1 }
        func isOutputAncestor(_ path: [UInt8]) -> Bool {
            guard let outputPath else { return false }
            return outputPath.count > path.count && Array(outputPath.prefix(path.count)) == path && outputPath[path.count] == 0x2F
        }
        let beforeSet = Dictionary(before.map { ($0.path, $0.kind) }, uniquingKeysWith: { a, _ in a })
        let afterSet = Dictionary(after.map { ($0.path, $0.kind) }, uniquingKeysWith: { a, _ in a })
        let added = after.filter { beforeSet[$0.path] == nil && !isOutputAncestor($0.path) }.map(\.path)
        let removed = before.filter { afterSet[$0.path] == nil }.map(\.path)
        if !added.isEmpty {
            out.append("wrote outside its output folder: " + added.prefix(4).map { HostileText.printable($0) }.joined(separator: ", ")
                       + (added.count > 4 ? " and \(added.count - 4) more" : ""))
        }
        if !removed.isEmpty {
            out.append("removed files outside its output folder: " + removed.prefix(4).map { HostileText.printable($0) }.joined(separator: ", "))
        }
        return out
    }

    /// Whether `path` (relative to the output folder) is a map (of the input with `token`, if given): it holds the
    /// token and is neither hidden (temporary files, records) nor a contact sheet.
    static func isMap(_ path: [UInt8], of token: [UInt8]?) -> Bool {
        if let token, !HostileText.contains(path, token) { return false }
        if path.split(separator: 0x2F).contains(where: { $0.first == 0x2E }) { return false }
        return !HostileText.contains(path, Array(".sheet.png".utf8))
    }

    /// A short description of a failure's cause, for grouping: the run's kind, the violation's first words and
    /// the most telling stderr line (a Swift fatal error, a crash line, or the first error).
    static func signature(run: HostileRunSpec, violations: [String], outcome: ProcessRunner.Outcome) -> String {
        func normalized(_ text: String) -> String {
            var t = text.replacingOccurrences(of: #"'[^']*'"#, with: "'…'", options: .regularExpression)
                .replacingOccurrences(of: #"0x[0-9a-fA-F]+"#, with: "0x…", options: .regularExpression)
                .replacingOccurrences(of: #"\d+"#, with: "N", options: .regularExpression)
            if t.count > 160 { t = String(t.prefix(160)) + "…" }
            return t
        }
        var kind = violations[0]
        if kind.contains("neither processed"), let list = kind.range(of: "named on stderr: "),
           let open = kind.range(of: " (", range: list.upperBound..<kind.endIndex),
           let close = kind.range(of: ")", range: open.upperBound..<kind.endIndex) {
            // Which input went missing says more than the first stderr line.
            let what = String(kind[open.upperBound..<close.lowerBound])
            return "\(run.kind): input neither processed nor named — \(what.hasPrefix("valid") ? "a valid image" : normalized(what))"
                + (violations.contains { $0.hasPrefix("wrote outside") } ? ", and files written outside the output folder" : "")
        }
        if kind.hasPrefix("wrote outside") || kind.hasPrefix("removed files") {
            // Where it wrote groups these better than the first error line.
            let first = kind.split(separator: ":", maxSplits: 1).last.map { $0.split(separator: ",")[0].trimmingCharacters(in: .whitespaces) } ?? ""
            let top = first.split(separator: "/").first.map(String.init) ?? first
            return "\(run.kind): \(kind.prefix { $0 != ":" }) — first path under \(normalized(top))"
        }
        if let colon = kind.firstIndex(of: ":") { kind = String(kind[..<colon]) }
        kind = normalized(kind)
        let lines = outcome.stderr.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        let cause = lines.first { $0.contains("Fatal error") || $0.contains("fatal error") }
            ?? lines.first { $0.hasPrefix("***") && ($0.contains("runtime failure") || $0.contains("Program crashed")) }
        // The first frame in the project's sources, as File.swift:line.
        var location: String? = nil
        if let frame = lines.first(where: { $0.contains("/Sources/") && $0.contains(".swift:") }),
           let match = frame.firstMatch(of: #/([A-Za-z0-9_+]+\.swift):(\d+)/#) {
            location = "\(match.1):\(match.2)"
        }
        var clue = ""
        if let cause {
            clue = normalized(cause.trimmingCharacters(in: CharacterSet(charactersIn: "* "))
                .replacingOccurrences(of: #" at 0x[0-9a-fA-F]+"#, with: "", options: .regularExpression)) + (location.map { " at \($0)" } ?? "")
        } else if let error = lines.first(where: { $0.contains("error:") }) {
            clue = normalized(error)
        }
        if clue.count > 200 { clue = String(clue.prefix(200)) + "…" }
        return "\(run.kind): \(kind)" + (clue.isEmpty ? "" : " — \(clue)")
    }

    /// Swift's crash report without the register dump and the image list (which say nothing about the cause).
    static func withoutRegisterDump(_ stderr: [UInt8]) -> [UInt8] {
        let text = String(decoding: stderr, as: UTF8.self)
        guard let registers = text.range(of: "\nRegisters:\n") else { return stderr }
        var kept = String(text[..<registers.lowerBound])
        if let backtraceEnd = text.range(of: "\nBacktrace took", range: registers.upperBound..<text.endIndex) {
            kept += "\n[registers and images left out]" + String(text[backtraceEnd.lowerBound...])
        }
        return Array(kept.utf8)
    }

    // MARK: - The harness itself

    /// The runner sees a signal, an exit status, a timeout, a child's peak RSS, and kills a child whose RSS runs away.
    @Test func harnessSeesSignalsTimeoutsAndMemory() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-hostile-harness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { HostileFS.removeTree(scratch) }
        func sh(_ script: String, timeout: Double = 10, killAboveKiB: Int = 4 << 20) throws -> ProcessRunner.Outcome {
            try ProcessRunner.run(ProcessRunner.Command("/bin/sh", ["-c", script], directory: scratch, environment: CLI.environment(),
                                                        timeout: timeout, killAboveKiB: killAboveKiB, diskBudget: 1 << 30))
        }
        let segv = try sh("kill -SEGV $$")
        #expect(segv.signal == SIGSEGV && segv.exitCode == nil, "\(segv.summary)")
        let usage = try sh("echo out; echo err >&2; exit 64")
        #expect(usage.exitCode == 64 && usage.signal == nil)
        #expect(usage.stdout == Array("out\n".utf8) && usage.stderr == Array("err\n".utf8))
        let pwd = try sh("pwd")
        #expect(String(decoding: pwd.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == URL(fileURLWithPath: scratch).resolvingSymlinksInPath().path)
        let slow = try sh("sleep 30", timeout: 0.3)
        #expect(slow.timedOut && slow.signal == SIGKILL && slow.seconds < 5, "\(slow.summary)")
        // dash keeps a command substitution's output in memory: ~60 MB resident.
        let big = try sh("x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo ${#x}")
        #expect(big.exitCode == 0 && big.peakRSSKiB > 50 * 1024, "\(big.summary)")
        // A tiny child is measured as tiny, however large this test process is (ru_maxrss alone would say otherwise).
        let ballast = [UInt8](repeating: 1, count: 300 << 20)
        let small = try sh("sleep 0.2")
        #expect(ballast.count > 0 && small.exitCode == 0 && small.peakRSSKiB < 20 * 1024,
                "\(small.summary) (ru_maxrss \(small.rusageMaxRSSKiB / 1024) MiB)")
        let runaway = try sh("x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo ${#x}", killAboveKiB: 40 * 1024)
        #expect(runaway.killedForMemory && runaway.signal == SIGKILL, "\(runaway.summary)")
    }

    /// The same seed and case number build the same case: same commands, same files, byte for byte.
    @Test(arguments: [0, 1, 2, 4, 5, 6, 7, 8, 12, 13, 22, 30])
    func casesAreDeterministic(_ index: Int) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-hostile-determinism-\(UUID().uuidString)").path
        defer { HostileFS.removeTree(base) }
        var built: [(HostileCase, [HostileFS.Entry], [[UInt8]?])] = []
        for copy in 0..<2 {
            let work = base + "/\(copy)"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let seed = SeededRandom.caseSeed(Self.defaultSeed, index)
            var builder = HostileCaseBuilder(work: work, probe: HostileProbe(), seed: seed, baseTimeout: 20)
            let c = try builder.build(index: index, seed: seed)
            let entries = HostileFS.walk(work)
            built.append((c, entries, entries.map { $0.kind == .file ? HostileFS.contents(root: work, path: $0.path) : nil }))
        }
        let (a, b) = (built[0], built[1])
        #expect(a.0.runs.map(\.arguments) == b.0.runs.map(\.arguments))
        #expect(a.0.notes == b.0.notes)
        #expect(a.1 == b.1)
        #expect(a.2 == b.2)
        #expect(!a.0.runs.isEmpty)
    }
}
