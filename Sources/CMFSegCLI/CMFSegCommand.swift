import ArgumentParser
import CMFSeg
import Glibc

@main
struct CMFSegCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cmfseg",
        abstract: "Brain-tumour segmentation (CMFT + CMFF) and BraTS evaluation.",
        version: CMFSegVersion.string,
        subcommands: [DemoCommand.self, InfoCommand.self, ForwardCommand.self, BenchNiftiCommand.self, PhantomCommand.self, PreviewCommand.self, ReportCommand.self, TrainCommand.self, TransferCommand.self, TranslateCommand.self, ConvertCommand.self, BenchCommand.self,
                      EvaluateCommand.self, SegmentCommand.self]
    )

    /// Library errors end the process with status 1 and one line on stderr,
    /// `cmfseg: error: <message>`; argument errors keep ArgumentParser's usage text.
    static func main() {
        // the library's notes: one stderr line each (clearing a progress line on a terminal)
        let tty = isatty(2) != 0
        LibraryLog.setReceiver { note in
            writeStandardError("\(tty ? "\r\u{1B}[K" : "")cmfseg: note: \(note)\n")
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CMFError {
            writeStandardError("cmfseg: error: \(error.message)\n")
            Glibc.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// Writes `text` to stderr at once (unbuffered), as every note, progress line and error of
/// the tool.
func writeStandardError(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { FileBytes.writeAll(STDERR_FILENO, $0) }
}
