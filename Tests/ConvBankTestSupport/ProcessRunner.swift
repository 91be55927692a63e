import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The tests' one way to run a child process (the built `convbank` binary, a shell, `script`, `mount`, Chromium,
/// `apt-get`): `posix_spawn` with the arguments as raw bytes (names need not be UTF-8), standard input from
/// /dev/null, standard output and error to files (never pipes, which a chatty child could fill and deadlock on),
/// reaped with `wait4`. It reports what `Foundation.Process` does not: death by signal as such, a timeout, the
/// child's own peak resident memory, and a watchdog's kill of a child whose memory or output ran away.
///
/// The child runs in its own process group, with default signal dispositions and an empty signal mask: a timeout
/// kills everything it started, and nothing this test process blocks or ignores leaks into it.
///
/// Peak RSS on Linux: wait4's `ru_maxrss` is not the child's alone. At exec the kernel folds the high-water mark
/// of the memory the process had before exec into `ru_maxrss`, and a posix_spawn child (vfork-style) had the
/// *parent's* memory: so `ru_maxrss` is at least this test process's own peak RSS (hundreds of MB in a full test
/// run). The child's real peak is therefore taken from `/proc/PID/status` `VmHWM` (the high-water mark of its
/// post-exec memory), sampled every few milliseconds while it runs, and from `ru_maxrss` only when that exceeds
/// this process's own peak (then it can only be the child's).
public enum ProcessRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where a child's standard output or standard error goes.
    public enum Output: Sendable, Equatable {
        /// To a scratch file, read back into `Outcome.stdout` / `Outcome.stderr` (at most `Command.captureLimit` bytes).
        case capture
        /// To /dev/null.
        case discard
        /// To this file, created or truncated (e.g. /dev/full); not read back.
        case file(String)
        /// Closed: the child starts without that descriptor.
        case closed
        /// Standard error only: to wherever standard output goes, as one interleaved stream.
        case standardOutput
    }

    /// One child to run: what, where, with which streams, and within which limits.
    public struct Command: Sendable {
        /// A path (no `PATH` search).
        public var executable: String
        /// The arguments after `argv[0]` (which is `executable`), as raw bytes.
        public var arguments: [[UInt8]]
        /// The child's working folder; nil: this process's.
        public var directory: String?
        /// The child's whole environment; nil: this process's.
        public var environment: [String: String]?
        public var standardOutput: Output
        public var standardError: Output
        /// Seconds after the start at which the child's process group is killed (`Outcome.timedOut`); nil: none.
        public var timeout: Double?
        /// On a timeout, seconds between SIGTERM and SIGKILL; 0: SIGKILL at once.
        public var terminationGrace: Double
        /// Kill the child's process group once its resident memory passes this (`Outcome.killedForMemory`).
        public var killAboveKiB: Int?
        /// Kill the child's process group once it wrote more than this: captured output, or free space lost on the
        /// working folder's file system (`Outcome.killedForDisk`).
        public var diskBudget: UInt64?
        /// At most this many bytes of each captured stream are read back.
        public var captureLimit: Int

        /// `executable arguments…`, arguments as raw bytes.
        public init(_ executable: String, bytes arguments: [[UInt8]], directory: String? = nil, environment: [String: String]? = nil,
                    standardOutput: Output = .capture, standardError: Output = .capture, timeout: Double? = nil,
                    terminationGrace: Double = 0, killAboveKiB: Int? = nil, diskBudget: UInt64? = nil, captureLimit: Int = 64 << 20) {
            precondition(standardOutput != .standardOutput, "standard output cannot go to itself")
            self.executable = executable
            self.arguments = arguments
            self.directory = directory
            self.environment = environment
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.timeout = timeout
            self.terminationGrace = terminationGrace
            self.killAboveKiB = killAboveKiB
            self.diskBudget = diskBudget
            self.captureLimit = captureLimit
        }

        /// `executable arguments…`, arguments as UTF-8.
        public init(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
                    standardOutput: Output = .capture, standardError: Output = .capture, timeout: Double? = nil,
                    terminationGrace: Double = 0, killAboveKiB: Int? = nil, diskBudget: UInt64? = nil, captureLimit: Int = 64 << 20) {
            self.init(executable, bytes: arguments.map { Array($0.utf8) }, directory: directory, environment: environment,
                      standardOutput: standardOutput, standardError: standardError, timeout: timeout, terminationGrace: terminationGrace,
                      killAboveKiB: killAboveKiB, diskBudget: diskBudget, captureLimit: captureLimit)
        }
    }

    /// What one run of a child did.
    public struct Outcome: Sendable {
        /// The exit status, when the child exited.
        public var exitCode: Int32?
        /// The signal that ended the child, if one did.
        public var signal: Int32?
        /// Killed because it was still running at `Command.timeout`.
        public var timedOut = false
        /// Killed because its RSS passed `Command.killAboveKiB`.
        public var killedForMemory = false
        /// Killed because it wrote more than `Command.diskBudget`.
        public var killedForDisk = false
        /// The child's own peak resident set size in KiB (see `ProcessRunner`); 0 when it ended before a sample.
        public var peakRSSKiB = 0
        /// wait4's `ru_maxrss` as the kernel reports it (floored at this process's own peak RSS, see `ProcessRunner`).
        public var rusageMaxRSSKiB = 0
        public var seconds = 0.0
        /// Captured standard output (empty when not captured).
        public var stdout: [UInt8] = []
        /// Captured standard error (empty when not captured).
        public var stderr: [UInt8] = []

        /// The exit status, or -1 when a signal ended the child.
        public var status: Int32 { exitCode ?? -1 }
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

        /// How it ended, how long it took and its peak memory, in one line.
        public var summary: String {
            var parts: [String] = []
            if let exitCode { parts.append("exit \(exitCode)") }
            if let signal { parts.append("killed by signal \(signal) (\(ProcessRunner.signalName(signal)))") }
            if timedOut { parts.append("TIMED OUT (killed by the test)") }
            if killedForMemory { parts.append("killed by the test for RSS") }
            if killedForDisk { parts.append("killed by the test for writing too much") }
            parts.append(String(format: "%.2f s", seconds))
            parts.append("peak RSS \(peakRSSKiB / 1024) MiB")
            return parts.joined(separator: ", ")
        }
    }

    /// Runs `command` to its end.
    public static func run(_ command: Command) throws -> Outcome { try Running(command).wait() }

    /// Starts `command` in the background: the caller may kill it, then must `wait()` for its outcome (a child never
    /// waited for is killed and reaped when the handle goes).
    public static func start(_ command: Command) throws -> Running { try Running(command) }

    /// Runs a system tool (e.g. `mount`), output discarded: its exit status, or -1 when it could not be started or
    /// a signal ended it.
    @discardableResult
    public static func status(_ tool: String, _ arguments: [String]) -> Int32 {
        guard let outcome = try? run(Command(tool, arguments, standardOutput: .discard, standardError: .discard)) else { return -1 }
        return outcome.exitCode ?? -1
    }

    /// A child started by `start` (or `run`).
    public final class Running {
        public let pid: pid_t
        private let command: Command
        private let scratch: String
        private let clock = ContinuousClock()
        private let startedAt: ContinuousClock.Instant
        private let ownPeakKiB: Int
        private let freeAtStart: UInt64
        private var outcome = Outcome()
        private var reaped = false
        private var finished = false
        private var terminatedAt: ContinuousClock.Instant?
        private var polls = 0
        private var sampledPeakKiB = 0

        private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32

        fileprivate init(_ command: Command) throws {
            self.command = command
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-child-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            for (fd, output, name) in [(Int32(1), command.standardOutput, "stdout"), (Int32(2), command.standardError, "stderr")] {
                switch output {
                case .capture: posix_spawn_file_actions_addopen(&actions, fd, scratch + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                case .discard: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
                case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                case .closed: posix_spawn_file_actions_addclose(&actions, fd)
                case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, fd)
                }
            }
            if let directory = command.directory {
                guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
                    throw Failure(description: "this C library has no posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29 needed)")
                }
                let addChdir = unsafeBitCast(symbol, to: AddChdir.self)
                guard addChdir(&actions, directory) == 0 else { throw Failure(description: "posix_spawn_file_actions_addchdir_np failed") }
            }

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var all = sigset_t(), none = sigset_t()
            sigfillset(&all)
            sigemptyset(&none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

            func cStrings(_ list: [[UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
                list.map { bytes in
                    let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
                    for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
                    p[bytes.count] = 0
                    return p
                } + [nil]
            }
            let argv = cStrings([Array(command.executable.utf8)] + command.arguments)
            let envp = command.environment.map { environment in
                cStrings(environment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) })
            }
            defer {
                for p in argv { p?.deallocate() }
                for p in envp ?? [] { p?.deallocate() }
            }

            freeAtStart = command.diskBudget == nil ? 0 : Self.freeBytes(command.directory ?? ".")
            startedAt = clock.now
            var pid: pid_t = 0
            let spawned = envp.map { posix_spawn(&pid, command.executable, &actions, &attributes, argv, $0) }
                ?? posix_spawn(&pid, command.executable, &actions, &attributes, argv, environ)
            guard spawned == 0 else {
                try? FileManager.default.removeItem(atPath: scratch)
                throw Failure(description: "posix_spawn \(command.executable): \(String(cString: strerror(spawned)))")
            }
            self.pid = pid
            // posix_spawn returns after the child's exec, so this bounds what exec folded into its ru_maxrss.
            ownPeakKiB = Self.memoryKiB(path: "/proc/self/status").peak
        }

        deinit {
            if !reaped {
                killGroup(SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            try? FileManager.default.removeItem(atPath: scratch)
        }

        /// Whether the child has not ended yet (a check that also runs the watchdog).
        public var isRunning: Bool { !poll() }

        /// Sends `signal` to the child (nothing once it has been reaped).
        public func kill(_ signal: Int32 = SIGKILL) {
            if !reaped { _ = Glibc.kill(pid, signal) }
        }

        /// Waits for the end, watching the timeout, memory and disk limits meanwhile; the outcome, with the captured
        /// output.
        public func wait() -> Outcome {
            if finished { return outcome }
            while !poll() { usleep(polls < 50 ? 2_000 : 10_000) }
            let elapsed = clock.now - startedAt
            outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            outcome.peakRSSKiB = outcome.rusageMaxRSSKiB > ownPeakKiB ? max(outcome.rusageMaxRSSKiB, sampledPeakKiB) : sampledPeakKiB
            if command.standardOutput == .capture { outcome.stdout = captured("stdout") }
            if command.standardError == .capture { outcome.stderr = captured("stderr") }
            try? FileManager.default.removeItem(atPath: scratch)
            finished = true
            return outcome
        }

        /// Reaps the child if it has ended (true), else samples its memory and enforces the limits (false).
        private func poll() -> Bool {
            if reaped { return true }
            var status: Int32 = 0
            var usage = rusage()
            let got = wait4(pid, &status, WNOHANG, &usage)
            if got == pid {
                reaped = true
                outcome.rusageMaxRSSKiB = Int(usage.ru_maxrss)
                let low = status & 0x7F
                if low == 0 {
                    outcome.exitCode = (status >> 8) & 0xFF
                } else if low != 0x7F {
                    outcome.signal = low
                }
                return true
            }
            if got < 0 {
                if errno == EINTR { return false }
                reaped = true  // not our child any more (ECHILD): nothing left to wait for, the ending unknown
                return true
            }
            polls += 1
            let memory = Self.memoryKiB(path: "/proc/\(pid)/status")
            sampledPeakKiB = max(sampledPeakKiB, memory.peak, memory.current)
            if let limit = command.killAboveKiB, memory.current > limit, !outcome.killedForMemory {
                outcome.killedForMemory = true
                killGroup(SIGKILL)
            }
            if let budget = command.diskBudget, polls % 16 == 0, !outcome.killedForDisk {
                var written: Int64 = 0
                if command.standardOutput == .capture { written += Self.size(scratch + "/stdout") }
                if command.standardError == .capture { written += Self.size(scratch + "/stderr") }
                let free = Self.freeBytes(command.directory ?? ".")
                if UInt64(max(0, written)) > budget || (freeAtStart > free && freeAtStart - free > budget) {
                    outcome.killedForDisk = true
                    killGroup(SIGKILL)
                }
            }
            if let timeout = command.timeout {
                let now = clock.now
                if !outcome.timedOut, now - startedAt > .milliseconds(Int64(timeout * 1000)) {
                    outcome.timedOut = true
                    if command.terminationGrace > 0 {
                        killGroup(SIGTERM)
                        terminatedAt = now
                    } else {
                        killGroup(SIGKILL)
                    }
                } else if let terminatedAt, now - terminatedAt > .milliseconds(Int64(command.terminationGrace * 1000)) {
                    killGroup(SIGKILL)
                    self.terminatedAt = nil
                }
            }
            return false
        }

        private func killGroup(_ signal: Int32) {
            _ = Glibc.kill(-pid, signal)
            _ = Glibc.kill(pid, signal)
        }

        private func captured(_ name: String) -> [UInt8] {
            guard let handle = FileHandle(forReadingAtPath: scratch + "/" + name) else { return [] }
            defer { try? handle.close() }
            return [UInt8]((try? handle.read(upToCount: command.captureLimit)) ?? Data())
        }

        private static func size(_ path: String) -> Int64 {
            var info = stat()
            return stat(path, &info) == 0 ? Int64(info.st_size) : 0
        }

        private static func freeBytes(_ path: String) -> UInt64 {
            var info = statvfs()
            guard statvfs(path, &info) == 0 else { return 0 }
            return UInt64(info.f_bavail) &* UInt64(info.f_frsize)
        }

        /// `VmHWM` (peak) and `VmRSS` (current) from a /proc/…/status file, in KiB (0 when unreadable, e.g. once
        /// the process has exited).
        fileprivate static func memoryKiB(path: String) -> (peak: Int, current: Int) {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return (0, 0) }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return (0, 0) }
            var peak = 0, current = 0
            for line in buffer[0..<n].split(separator: 0x0A) {
                let isPeak = line.starts(with: Array("VmHWM:".utf8)), isCurrent = line.starts(with: Array("VmRSS:".utf8))
                guard isPeak || isCurrent else { continue }
                let digits = line.drop { $0 < 0x30 || $0 > 0x39 }.prefix { $0 >= 0x30 && $0 <= 0x39 }
                let value = Int(String(decoding: digits, as: UTF8.self)) ?? 0
                if isPeak { peak = value } else { current = value }
            }
            return (peak, current)
        }
    }

    /// A signal's name, and what it usually means for a Swift program.
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGILL: "SIGILL, a Swift trap"
        case SIGTRAP: "SIGTRAP, a Swift trap"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(signal)"
        }
    }
}

extension ProcessRunner {
    /// This process's peak resident memory (`VmHWM` of `/proc/self/status`), in bytes. Not `getrusage`'s
    /// `ru_maxrss`: Linux carries that across `execve`, so an exit test's child would start from the test runner's
    /// own peak.
    public static func ownPeakResidentBytes() -> Int {
        Running.memoryKiB(path: "/proc/self/status").peak * 1024
    }
}
