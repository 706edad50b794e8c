import ArgumentParser
import CMFSeg
import Foundation

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
            FileHandle.standardError.write(Data("\(tty ? "\r\u{1B}[K" : "")cmfseg: note: \(note)\n".utf8))
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CMFError {
            FileHandle.standardError.write(Data("cmfseg: error: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
