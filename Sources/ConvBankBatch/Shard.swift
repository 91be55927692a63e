import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// Part `index` of `count` of a run (`--shard K/N`): an input belongs to the shard where the FNV-1a 64-bit hash
/// of its path relative to its folder argument (its bytes on disk, so a name that is not UTF-8 hashes as itself),
/// modulo `count`, equals `index` — stable across machines and listing orders, and balanced for any naming scheme.
/// A walk problem about an argument or a folder (`InputProblem.everyShard`) belongs to every shard.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    /// K: which part, 0 ..< `count`.
    public var index: Int
    /// N: how many parts the run is split into (at least 1).
    public var count: Int

    /// Part `index` of `count`; nil unless `0 <= index < count`.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (`0/4`); nil for anything else or out of range.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    /// Whether `item` belongs to this shard: the hash of its `relative` path modulo `count` is `index`, or it is a
    /// problem every shard reports.
    /// - Complexity: O(length of the path).
    public func contains(_ item: InputItem) -> Bool {
        if item.problem?.everyShard == true { return true }
        return Int(fnv1a64(FileSystem.bytes(of: item.relative)) % UInt64(count)) == index
    }

    /// The shard of a Slurm job-array task (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`
    /// and, for stepped arrays, `SLURM_ARRAY_TASK_STEP`: shard `(ID − MIN) / STEP` of `COUNT`), or of a Kubernetes
    /// Indexed Job (`JOB_COMPLETION_INDEX` of `CONVBANK_SHARD_COUNT`), from an environment; nil outside both.
    /// - Throws: `ShardError` when the variables are there but name no shard (a sparse array such as `--array=3,7`,
    ///   or an index without a count): running the whole input there would repeat other tasks' work.
    public static func fromEnvironment(_ environment: [String: String]) throws(ShardError) -> (shard: Shard, source: String)? {
        if let idText = environment["SLURM_ARRAY_TASK_ID"] {
            guard let id = Int(idText), let count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap({ Int($0) }) else {
                throw ShardError(reason: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is missing or not a number; give --shard K/N")
            }
            let minimum = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
            let step = max(environment["SLURM_ARRAY_TASK_STEP"].flatMap { Int($0) } ?? 1, 1)
            let (offset, overflow) = id.subtractingReportingOverflow(minimum)  // any values, even Int.min
            guard !overflow, offset % step == 0, let shard = Shard(index: offset / step, count: count) else {
                throw ShardError(reason: "Slurm array task \(id) (min \(minimum), step \(step), count \(count)) is not one of 0…\(count - 1) after (ID − MIN) / STEP: use a contiguous array such as --array=0-\(max(count - 1, 0)), or give --shard K/N")
            }
            return (shard, "Slurm array task \(id) of \(count) (SLURM_ARRAY_TASK_MIN \(minimum)\(step > 1 ? ", step \(step)" : ""))")
        }
        if let indexText = environment["JOB_COMPLETION_INDEX"] {
            guard let index = Int(indexText), let count = environment["CONVBANK_SHARD_COUNT"].flatMap({ Int($0) }),
                  let shard = Shard(index: index, count: count) else {
                throw ShardError(reason: "JOB_COMPLETION_INDEX is set but CONVBANK_SHARD_COUNT is missing or does not exceed it; set CONVBANK_SHARD_COUNT to the job's completions, or give --shard K/N")
            }
            return (shard, "Kubernetes job completion index \(index) of \(count)")
        }
        return nil
    }

    /// `K/N`, as parsed.
    public var description: String { "\(index)/\(count)" }
}

/// Why the environment names no shard.
public struct ShardError: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the variables, and what to do.
    public var reason: String
    /// `reason`.
    public var description: String { reason }
}

/// FNV-1a, 64-bit.
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
    }
    return h
}
