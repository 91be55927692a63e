import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// The bank and the options that override its settings; shared by `apply`, `summary` and `explain`.
struct BankOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A JSON bank file, a built-in bank name (\(BuiltinBank.allNames)), or an inline kernel 'WxH: v1,v2,…' (W columns, H rows, W·H numbers row by row; a file of that name wins).", valueName: "bank"))
    var bank: String

    @OptionGroup var overrides: BankOverrides

    @Option(help: ArgumentHelp("Combine the two filters of a two-filter bank (gx first, gy second) pixel by pixel and write the result instead of their maps: magnitude = √(gx² + gy²), orientation = atan2(gy, gx) in radians, or both (magnitude,orientation); none writes the filters' maps of a bank that combines. Overrides the bank's \"combine\".", valueName: "magnitude|orientation|magnitude,orientation|none"))
    var combine: String?

    /// The bank with the overrides applied. A bad bank prints one line and exits with 64 (usage error).
    func load() throws -> FilterBank {
        var bank: FilterBank
        do {
            bank = try FilterBank.load(FileSystem.commandLineArguments([self.bank])[0])
            if let combine { bank = try bank.combining(shortForm: combine, source: "--combine") }
        } catch {
            throw CLIError.usage("\(error)")
        }
        return overrides.apply(to: bank)
    }

    /// The network when `--bank` names a network file (a JSON object with `"layers"`), else nil. A bad network file,
    /// or a bank override (`--stride`, `--padding`, …, `--combine`) given with one, is a usage error (exit 64).
    func loadNetwork() throws -> Network? {
        let network: Network?
        try ModelFileCheck.run(FileSystem.commandLineArguments([self.bank])[0])
        do { network = try Network.load(FileSystem.commandLineArguments([self.bank])[0]) } catch { throw CLIError.usage("\(error)") }
        guard let network else { return nil }
        if overrides.isSet || combine != nil {
            throw CLIError.usage("--stride, --dilation, --padding, --padding-mode, --activation and --combine set a bank's settings; '\(self.bank)' is a network: set each layer's in the network file")
        }
        return network
    }
}

extension Preprocess {
    /// `--preprocess TEXT` for a bank or network that reads `channels`: nil without the option.
    /// - Throws: `CLIError.usage` for an unknown mode, or one needing another channel count than `what` reads.
    static func option(_ text: String?, channels: Int, what: String) throws -> Preprocess? {
        guard let text else { return nil }
        guard let mode = Preprocess(name: text) else {
            throw CLIError.usage("--preprocess must be one of \(Preprocess.modeNames.joined(separator: ", ")) (got '\(text)')")
        }
        if let needed = mode.requiredChannels, needed != channels {
            throw CLIError.usage("--preprocess \(text) needs \(needed) channels, but \(what) reads \(channels)")
        }
        return mode
    }
}

/// The five options that set a bank's convolution settings (`apply`, `summary`, `explain` and `import`).
struct BankOverrides: ParsableArguments {
    @Option(help: ArgumentHelp("Stride; overrides the bank. Each side 1…999999999.", valueName: "n|h,w"))
    var stride: Extent2D?

    @Option(help: ArgumentHelp("Dilation; overrides the bank. Each side 1…999999999.", valueName: "n|h,w"))
    var dilation: Extent2D?

    @Option(help: ArgumentHelp("Padding; overrides the bank. Each pad 0…999999999.", valueName: "valid|same|n|t,b,l,r"))
    var padding: Padding?

    @Option(help: "What fills the padding; overrides the bank.")
    var paddingMode: PaddingMode?

    @Option(help: ArgumentHelp("Activation (Keras name); overrides the bank.", valueName: "name"))
    var activation: Activation?

    /// Whether any of the five is given.
    var isSet: Bool { stride != nil || dilation != nil || padding != nil || paddingMode != nil || activation != nil }

    /// `bank` with the options given replacing its own settings.
    func apply(to bank: FilterBank) -> FilterBank {
        bank.overriding(stride: stride, dilation: dilation, padding: padding, paddingMode: paddingMode, activation: activation)
    }
}

/// Writes one line to standard error, prefixed with the tool's name.
func printError(_ line: String) {
    StandardStreams.writeError("convbank: \(FileSystem.display(line))\n")
}

/// The process's standard streams, made safe for a batch: a full disk, a closed pipe or a closed descriptor behind
/// standard output or error never stops the run (the manifest still records every input).
enum StandardStreams {
    /// Call first thing: opens `/dev/null` on any of descriptors 0–2 that is closed (so no file the run opens later,
    /// such as the manifest, becomes "standard error"), and ignores SIGPIPE (a closed pipe becomes a failed write).
    static func prepare() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if opened >= 0, opened != fd {  // the lowest free descriptor is fd itself; anything else is kept out of the way
                dup2(opened, fd)
                close(opened)
            }
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `text` to standard error with `write(2)`, retrying short writes and EINTR; any other failure
    /// (ENOSPC, EPIPE, EIO) drops the text silently.
    static func writeError(_ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + done, $0.count - done) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }
}
