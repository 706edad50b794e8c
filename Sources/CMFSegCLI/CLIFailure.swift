import ArgumentParser
import CMFSeg
import Foundation

/// The CLI's error convention: a one-line `cmfseg: error: …` on stderr and exit status 1.
enum CLIFailure {
    /// Runs `body`; a thrown `CMFError` (or any other error) becomes the one-line message.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as CMFError {
            fail(e.message)
        } catch let e as ExitCode {
            throw e
        } catch {
            fail("\(error)")
        }
    }

    /// Prints the message and exits with status 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("cmfseg: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
