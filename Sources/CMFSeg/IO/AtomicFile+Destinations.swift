import FoundationEssentials
import Glibc

extension AtomicFile {
    /// Fails early, before a long computation, when one of `outputs` cannot be written:
    /// its directory missing or not writable, the path a directory, the same file as one
    /// of `inputs`, or two outputs the same file. (``write(_:)`` checks again as it writes.)
    /// - Throws: `CMFError.io` / `.invalidArgument` naming the path.
    static func checkDestinations(_ outputs: [String], inputs: [String]) throws {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        let inputSet = Set(inputs.map(canonical))
        var seen = Set<String>()
        for out in outputs {
            guard !out.isEmpty else { throw CMFError.invalidArgument("empty output path") }
            let c = canonical(out)
            guard !inputSet.contains(c) else {
                throw CMFError.invalidArgument("output \(out) is also an input; choose another file name")
            }
            guard seen.insert(c).inserted else { throw CMFError.invalidArgument("output \(out) is given twice") }
            var isDir = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir {
                throw CMFError.io("cannot write \(out): is a directory")
            }
            let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir else {
                throw CMFError.io("cannot write \(out): directory \(dir) does not exist")
            }
            guard access(dir, W_OK) == 0 else {
                throw CMFError.io("cannot write \(out): directory \(dir) is not writable")
            }
        }
    }
}
