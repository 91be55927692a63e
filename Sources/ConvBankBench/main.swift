import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

// convbank-bench: stage figures for `make bench`, one line each: `name value unit`. Medians of repeated runs.
// Usage: convbank-bench [--repeats N] [--only PREFIX] [--photos DIR]
//   --only PREFIX runs only the figures whose names start with PREFIX (e.g. `--only W3` for hardware counters).

let arguments = CommandLine.arguments
let repeats = arguments.firstIndex(of: "--repeats").flatMap { Int(arguments[$0 + 1]) } ?? 5
let only = arguments.firstIndex(of: "--only").map { arguments[$0 + 1] } ?? ""
let jobs = ProcessInfo.processInfo.environment["BENCH_JOBS"].flatMap { Int($0) } ?? ProcessInfo.processInfo.activeProcessorCount
keepLargeBuffersMapped()

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Wall seconds of `body`; with BENCH_CPU=1, the process's CPU seconds instead (user + system, all threads): on a
/// machine shared with other work, CPU time compares two variants where wall time only measures the neighbours.
func seconds(_ body: () -> Void) -> Double {
    if cpuClock {
        func now() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let start = now()
        body()
        return now() - start
    }
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
let cpuClock = ProcessInfo.processInfo.environment["BENCH_CPU"] == "1"

func report(_ name: String, _ value: Double, _ unit: String) {
    guard name.hasPrefix(only) else { return }
    print("\(name) \(String(format: value >= 100 ? "%.0f" : "%.2f", value)) \(unit)")

}

func randomImage(_ h: Int, _ w: Int, _ c: Int, seed: UInt64) -> Tensor {
    var state = seed
    var values = [Float](repeating: 0, count: h * w * c)
    for k in values.indices {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        values[k] = Float((state >> 33) % 256)
    }
    return Tensor(height: h, width: w, channels: c, storage: values)
}

func randomBank(filters: Int, kernel: Int, channels: Int, stride: Int, padding: Padding, activation: Activation, seed: UInt64) -> FilterBank {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int((state >> 40) % 2001) - 1000) / 1000
    }
    let list = (0..<filters).map { f in
        Filter(name: "f\(f)", kernel: Extent2D(kernel), channels: channels, weights: (0..<(kernel * kernel * channels)).map { _ in next() }, bias: next())
    }
    return FilterBank(name: "bench", filters: list, stride: Extent2D(stride), padding: padding, activation: activation)
}

/// GFLOP/s of the convolution stage (2 FLOP per multiply-add), median of `repeats`.
func convFigure(_ name: String, bank: FilterBank, image: Tensor, kernels: KernelLevel = .best, wideBlocks: Bool = true) {
    guard name.hasPrefix(only) else { return }
    let plan = try! ConvolutionPlan(bank: bank, input: image.extent, bandRows: nil, wideBlocks: wideBlocks)
    var macs = 0.0
    for f in plan.filters.indices {
        let o = plan.filters[f].geometry.output
        macs += Double(o.height * o.width * bank.filters[f].kernel.height * bank.filters[f].kernel.width * bank.channels)
    }
    _ = plan.run(image, jobs: jobs, kernels: kernels)  // warm-up
    let times = (0..<repeats).map { _ in seconds { _ = plan.run(image, jobs: jobs, kernels: kernels) } }
    report(name, 2 * macs / median(times) / 1e9, "GFLOP/s")
}

let w1 = BuiltinBank.edges
let big = randomImage(2048, 2048, 3, seed: 1)
for level in KernelLevel.available.reversed() {
    convFigure("W1-conv-3x3x3x8-2048-\(level)", bank: w1, image: big, kernels: level)
}
let w3 = randomBank(filters: 64, kernel: 7, channels: 3, stride: 2, padding: .same, activation: .relu, seed: 13)
convFigure("W3-conv-64x7x7x3-s2-1024", bank: w3, image: randomImage(1024, 1024, 3, seed: 2))
// The same layer on the 8-filter kernel (pixels in the lanes), for a paired comparison with the wide kernel.
convFigure("W3narrow-conv-64x7x7x3-s2-1024", bank: w3, image: randomImage(1024, 1024, 3, seed: 2), wideBlocks: false)
convFigure("W3-conv-64x7x7x3-s2-224", bank: w3, image: randomImage(224, 224, 3, seed: 3))
// W5's second layer (VGG16 block1_conv2): many channels, few taps per channel.
let w5conv2 = randomBank(filters: 64, kernel: 3, channels: 64, stride: 1, padding: .same, activation: .relu, seed: 17)
convFigure("W5conv2-conv-64x3x3x64-224", bank: w5conv2, image: randomImage(224, 224, 64, seed: 4))

// Codec stages on real photos: `--photos DIR` (default SampleImages).
let photoDir = arguments.firstIndex(of: "--photos").map { arguments[$0 + 1] } ?? "SampleImages"
let photoPaths = InputCollection(arguments: [photoDir]).items.map(\.path)
if !photoPaths.isEmpty, ["decode-1-thread", "png-encode-edge-maps", "png-ratio-edge-maps"].contains(where: { $0.hasPrefix(only) }) {
    let decodedImages = photoPaths.map { try! ImageCodec.decode(path: $0) }
    let megapixels = decodedImages.reduce(0.0) { $0 + Double($1.tensor.height * $1.tensor.width) / 1e6 }
    let decodeTimes = (0..<repeats).map { _ in seconds { for p in photoPaths { _ = try! ImageCodec.decode(path: p) } } }
    report("decode-1-thread", megapixels / median(decodeTimes), "MP/s")

    // PNG stage: the 8 edge maps of every photo, clamped to 8 bits and encoded at the default level, on all cores.
    var levels: [(bytes: [UInt8], width: Int, height: Int)] = []
    for image in decodedImages {
        let maps = try! w1.convolve(try! image.tensor.adapted(toChannels: 3), jobs: jobs)
        for map in maps {
            var bytes = [UInt8](repeating: 0, count: map.storage.count)
            bytes.withUnsafeMutableBufferPointer { out in map.storage.withUnsafeBufferPointer { _ = Normalization.clamp.levels8($0, into: out) } }
            levels.append((bytes, map.width, map.height))
        }
    }
    let raw = Double(levels.reduce(0) { $0 + $1.bytes.count }) / 1e6
    let work = levels
    var compressed = 0
    let pngTimes = (0..<repeats).map { _ in
        seconds {
            let sizes = SizeSlots(work.count)
            DispatchQueue.concurrentPerform(iterations: work.count) { k in
                sizes.set(k, try! ImageCodec.encodePNG(gray8: work[k].bytes, width: work[k].width, height: work[k].height).count)
            }
            compressed = sizes.total
        }
    }
    report("png-encode-edge-maps", raw / median(pngTimes), "MB/s")
    report("png-ratio-edge-maps", raw * 1e6 / Double(compressed), "x")
}

/// Per-iteration results. Invariant: iteration k writes only slot k.
final class SizeSlots: @unchecked Sendable {
    private var values: UnsafeMutableBufferPointer<Int>
    init(_ n: Int) { values = .allocate(capacity: n); values.initialize(repeating: 0) }
    func set(_ k: Int, _ v: Int) { values[k] = v }
    var total: Int { values.reduce(0, +) }
}
