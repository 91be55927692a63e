// library-consumer IMAGE BANK OUTDIR: convolves IMAGE with BANK (a bank file or a built-in name) on all cores and
// writes OUTDIR/<filter>.npy — byte for byte what `convbank apply IMAGE --bank BANK --format npy --output OUT`
// writes to OUT/<stem>/<filter>.npy.
import ConvBankEngine
import ConvBankImageIO
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: library-consumer IMAGE BANK OUTDIR\n".utf8))
    exit(64)
}
let (imagePath, bankReference, outputFolder) = (arguments[1], arguments[2], arguments[3])

keepLargeBuffersMapped()  // as the convbank tool does: freed buffers stay mapped for reuse

do {
    let bank = try FilterBank.load(bankReference)
    let decoded = try ImageCodec.decode(path: imagePath)
    let image = try decoded.tensor.adapted(toChannels: bank.channels)
    let maps = try bank.convolve(image, jobs: ProcessInfo.processInfo.activeProcessorCount)
    for (filter, map) in zip(bank.filters, maps) {
        try AtomicFile.write(MapEncoder.npy(map), to: outputFolder + "/" + filter.name + ".npy")
    }
    print("\(imagePath): \(bank.filters.count) maps of \(maps[0].width)×\(maps[0].height) in \(outputFolder)")
} catch {
    FileHandle.standardError.write(Data("library-consumer: error: \(error)\n".utf8))
    exit(1)
}
