import ArgumentParser
import ConvBankImageIO
import Foundation

/// HDF5 files (Keras `.h5`, `.weights.h5`, the weights inside a `.keras` archive) are read by libhdf5, which crashes
/// or runs away in memory on some malformed files (Debian 12's 1.10.8: `fuzz/known/`). So before the tool reads such
/// a file itself, a child `convbank` process reads it once (`_check-model`) with at most `memoryLimit` bytes of
/// memory and `seconds` of time. A child that crashes, is killed or runs out of time becomes a one-line error here;
/// a child that refuses the file cleanly passes its one-line error on, and this process does not read the file.
enum ModelFileCheck {
    /// The memory the child may map beyond what it has at its start: 1 GiB and three times the file's size (the
    /// file's bytes, libhdf5's copy of them, the arrays read).
    static func memoryLimit(fileBytes: Int) -> Int { (1 << 30) + 3 * fileBytes }
    /// How long the child may take: 60 s (a 528 MB VGG16 `.h5` takes a few seconds).
    static let seconds = 60.0

    /// Runs the check when `path` starts with the HDF5 signature or is a zip archive (a `.keras` file holds HDF5).
    /// - Parameter path: the file as given (a lossless path).
    /// - Throws: `CLIError.usage` naming the file when the child crashed, was killed or timed out.
    static func run(_ path: String) throws(CLIError) {
        guard let head = firstBytes(path, count: 8), ImportSource.mayHoldHDF5(head) else { return }
        // Fails closed: a check that cannot run or whose outcome is unknown refuses the file.
        func cannot(_ why: String) -> CLIError { .usage("cannot read '\(path)': its HDF5 check could not run (\(why))") }
        let executable = "/proc/self/exe"
        guard access(executable, X_OK) == 0 else { throw cannot("no /proc/self/exe") }
        // The child's error line comes back through a pipe, read once it has ended (one line fits the pipe's buffer;
        // a child that writes more blocks and is killed at the deadline).
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw cannot(String(cString: strerror(errno))) }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // the dup2 onto the child's 2 clears it there
        defer { close(ends[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        // argv: the path's own bytes (not their display form), after "--" so a path starting with '-' is a path.
        let arguments: [[UInt8]] = [Array(executable.utf8), Array("_check-model".utf8), Array("--".utf8), FileSystem.bytes(of: path)]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        } + [nil]
        defer { for p in argv { p?.deallocate() } }
        signal(SIGCHLD, SIG_DFL)  // an inherited SIG_IGN would reap the child before waitpid sees it
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        close(ends[1])
        guard spawned == 0 else { throw cannot(String(cString: strerror(spawned))) }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0, errno != EINTR {
                kill(pid, SIGKILL)
                throw cannot("waitpid: \(String(cString: strerror(errno)))")
            }
            if DispatchTime.now().uptimeNanoseconds > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw .usage("cannot read '\(path)': reading it took longer than \(Int(seconds)) s (a malformed HDF5 file?)")
            }
            usleep(2_000)
        }
        let signal = status & 0x7F
        if signal != 0 {
            throw .usage("cannot read '\(path)': the HDF5 library failed on it (\(signal == SIGKILL ? "killed" : "signal \(signal)")): a malformed or hostile HDF5 file, or one needing more than \(memoryLimit(fileBytes: 0) >> 30) GiB beyond its size")
        }
        guard (status >> 8) & 0xFF != 0 else { return }
        // Refused cleanly: the child's one line, so a file that costs much memory to refuse is not read again here.
        var report = [UInt8](repeating: 0, count: 4096)
        let n = report.withUnsafeMutableBytes { read(ends[0], $0.baseAddress!, $0.count) }
        let line = n > 0 ? String(decoding: report[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) : nil
        throw .usage(line ?? "cannot read '\(path)': refused by its HDF5 check")
    }

    /// The first `count` bytes of the file, or nil (not a regular readable file, or shorter).
    static func firstBytes(_ path: String, count: Int) -> [UInt8]? {
        let fd = FileSystem.openDescriptor(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress!, count) }
        return n == count ? bytes : nil
    }

    /// This process's executable, as the kernel knows it.
    static func ownExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Convbank {
    /// The child of `ModelFileCheck`: reads a model or weight file under a memory limit and exits 0 (read) or 64
    /// (refused cleanly); a crash shows as the signal that ended it.
    struct CheckModel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "_check-model", shouldDisplay: false)

        @Argument var path: String

        func run() throws {
            let exact = FileSystem.commandLineArguments([path])[0]
            let size = FileSystem.info(exact).map { Int($0.st_size) } ?? 0
            alarm(UInt32(ModelFileCheck.seconds) + 5)  // ends it even if the parent is gone
            // The address space it has now (code, stacks, the runtime's reservations) plus the allowance: RLIMIT_AS
            // covers every kind of mapping (RLIMIT_DATA let libhdf5's runaway growth through).
            let pages = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ").first.flatMap { Int($0) } ?? 0
            let limit = rlim_t(pages * Int(sysconf(Int32(_SC_PAGESIZE))) + ModelFileCheck.memoryLimit(fileBytes: size))
            var bound = rlimit(rlim_cur: limit, rlim_max: limit)
            setrlimit(Int32(RLIMIT_AS.rawValue), &bound)
            do { _ = try ImportSource.read(contentsOfFile: exact) } catch {
                StandardStreams.writeError("\(error)\n")
                Foundation.exit(64)
            }
        }
    }
}
