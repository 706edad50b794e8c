import FoundationEssentials
import Glibc

/// Writes files atomically: each goes to a temporary file in its destination directory
/// and is renamed into place only after every byte was written, flushed to the disk
/// (fsync) and closed without error; the directory is flushed after the rename, so a crash
/// or power loss leaves the old file or the complete new one. On failure every temporary is
/// removed; temporaries of a writer that was killed (SIGKILL leaves no chance to clean up)
/// are removed by the next write to the same destination once that process is gone.
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
        for (path, _) in files { removeStaleTemporaries(of: path) }
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
            for dir in Set(files.map { URL(fileURLWithPath: $0.path).deletingLastPathComponent().path }) {
                syncDirectory(dir)
            }
        } catch {
            for t in temps where !t.isEmpty { unlink(t) }
            throw error
        }
    }

    /// `<dir>/.<name>.tmp-<pid>-<random>`: hidden, unique, and naming the process that writes it.
    private static func temporaryName(for path: String) -> String {
        temporaryPrefix(for: path) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    private static func temporaryPrefix(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".tmp-"
    }

    /// Removes temporaries of `path` left by processes that no longer exist.
    private static func removeStaleTemporaries(of path: String) {
        let prefix = temporaryPrefix(for: path)
        let dir = URL(fileURLWithPath: prefix).deletingLastPathComponent().path
        let namePrefix = String(prefix.dropFirst(dir.count + 1))
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(namePrefix) {
            let rest = name.dropFirst(namePrefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ pid_t($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + name) }
        }
    }

    /// Flushes a directory's entries (the rename) to the disk; best effort, as some file
    /// systems refuse fsync on directories.
    private static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
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
            guard FileBytes.writeAll(fd, p) else { throw failure() }
        }
        switch content {
        case .parts(let head, let data):
            try head.withUnsafeBytes { try put($0) }
            if data.count > 0 { try put(data) }
        case .bytes(let b):
            try b.withUnsafeBytes { try put($0) }
        }
        guard fsync(fd) == 0 else { throw failure() }
        closed = true
        guard close(fd) == 0 else { throw failure() }
    }
}
