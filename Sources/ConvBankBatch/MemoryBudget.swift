import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// How much memory one input of a batch may need, and the byte sizes the tool reads and prints.
///
/// Before decoding an input, `apply` works out from its header what decoding, the convolution plan (padded planes,
/// every map, low-rank scratch), partial maps and encoders will allocate, and refuses the input — one line, the
/// batch goes on — when that is over the budget (`--max-memory`). The default is three quarters of the memory this
/// process may use: the machine's physical memory, or a smaller cgroup limit (a container, a Slurm job).
public enum MemoryBudget {
    /// Three quarters of `availableBytes`.
    public static let defaultBytes: Int = availableBytes / 4 * 3

    /// The machine's physical memory, or the cgroup's limit when that is smaller.
    public static let availableBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        var bytes = pages > 0 && size > 0 ? Int(pages).multipliedReportingOverflow(by: Int(size)).partialValue : 8 << 30
        for file in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
                bytes = min(bytes, limit)
            }
        }
        return max(bytes, 1 << 20)
    }()

}
