import Dispatch

/// Runs `body(i)` for every `i` in `0..<count` on at most `jobs` threads (`DispatchQueue.concurrentPerform`,
/// which also never runs more threads than there are cores). Worker `w` takes items `w, w + jobs, …`;
/// `jobs == 1` runs on the calling thread. Callers must make iterations independent (disjoint writes).
package func parallelFor(_ count: Int, jobs: Int, _ body: @Sendable (Int) -> Void) {
    let workers = min(max(jobs, 1), count)
    if workers <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var i = worker
        while i < count {
            body(i)
            i += workers
        }
    }
}

/// Output storage shared by parallel workers. Invariant: workers write disjoint elements; nobody reads a
/// value another worker writes until `parallelFor` returns.
package struct DisjointWrites<Element>: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Element>
}

/// Read-only storage shared by parallel workers. Invariant: nobody writes while workers read.
package struct SharedReads<Element>: @unchecked Sendable {
    package let base: UnsafePointer<Element>
}
