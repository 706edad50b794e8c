import Foundation

/// Files the path-taking readers read: a private directory in memory (/dev/shm when it
/// exists), removed when the fuzzer exits.
enum Scratch {
    nonisolated(unsafe) private(set) static var directory = ""

    static func prepare() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = "\(base)/cmfseg-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        guard mkdir(directory, 0o700) == 0 else { finding("cannot create \(directory)") }
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
    }

    /// Writes `bytes` to `name` in the scratch directory and returns its path.
    static func write(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
        let path = "\(directory)/\(name)"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { finding("cannot write \(path)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { finding("cannot write \(path)") }
            done += n
        }
        return path
    }
}
