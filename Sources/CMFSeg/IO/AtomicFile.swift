import Foundation

/// Writes files atomically: each goes to a temporary file in its destination directory
/// and is renamed into place only after every byte was written and closed without error.
/// On failure every temporary is removed, so no partial output is ever left behind.
/// An existing destination must be a regular file (a symlink is replaced, not followed).
enum AtomicFile {
    enum Content {
        /// A header and a borrowed data buffer, written one after the other.
        case parts([UInt8], UnsafeRawBufferPointer)
        case bytes([UInt8])
    }

    /// Writes all files; renames happen in order, after all temporaries are complete.
    /// - Throws: `CMFError.io` naming the destination and the system's reason.
    static func write(_ files: [(path: String, content: Content)]) throws {
        var temps: [String] = []
        do {
            for (path, content) in files {
                let temp = temporaryName(for: path)
                temps.append(temp)
                try writeFile(temp, content, destination: path)
            }
            for (i, (path, _)) in files.enumerated() {
                guard rename(temps[i], path) == 0 else {
                    throw CMFError.io("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                temps[i] = ""
            }
        } catch {
            for t in temps where !t.isEmpty { unlink(t) }
            throw error
        }
    }

    private static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        return dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    private static func writeFile(_ temp: String, _ content: Content, destination: String) throws {
        func failure() -> CMFError { .io("cannot write \(destination): \(String(cString: strerror(errno)))") }
        // Only regular files (or nothing) are replaced: renaming over a directory fails
        // anyway, and over a device or FIFO (/dev/null, /dev/full) it would replace the node.
        var st = stat()
        if lstat(destination, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR { throw CMFError.io("cannot write \(destination): is a directory") }
            if kind != S_IFREG && kind != S_IFLNK { throw CMFError.io("cannot write \(destination): not a regular file") }
            if kind == S_IFLNK, stat(destination, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                throw CMFError.io("cannot write \(destination): not a regular file")
            }
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure() }
        var closed = false
        defer { if !closed { close(fd) } }
        func put(_ p: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < p.count {
                let n = Foundation.write(fd, p.baseAddress! + done, p.count - done)
                if n < 0 { if errno == EINTR { continue }; throw failure() }
                if n == 0 { errno = EIO; throw failure() }
                done += n
            }
        }
        switch content {
        case .parts(let head, let data):
            try head.withUnsafeBytes { try put($0) }
            if data.count > 0 { try put(data) }
        case .bytes(let b):
            try b.withUnsafeBytes { try put($0) }
        }
        closed = true
        guard close(fd) == 0 else { throw failure() }
    }
}
