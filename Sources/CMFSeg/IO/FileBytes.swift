import CDeflate
import Glibc

/// Reading whole files and gzip streams into memory, with every failure a `CMFError`
/// that names the file, and writing raw bytes to a file descriptor. Nothing here trusts a
/// size it has not checked.
public enum FileBytes {
    /// Checks that `path` names a readable regular file and returns its size.
    /// - Throws: `CMFError.io` for a missing file, a directory, or an unreadable file.
    public static func regularFileSize(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CMFError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CMFError.io("cannot read \(path): is a directory") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CMFError.io("cannot read \(path): not a regular file") }
        return Int(st.st_size)
    }

    /// The first `count` bytes of the file, decompressed when it is gzip (fewer if the
    /// content is shorter), and whether it was gzip.
    static func prefix(_ path: String, count: Int) throws -> (bytes: [UInt8], gzip: Bool) {
        _ = try regularFileSize(path)
        guard let f = gzopen(path, "rb") else {
            throw CMFError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { gzclose(f) }
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { gzread(f, $0.baseAddress! + got, UInt32(count - got)) }
            if n < 0 && got == 0 {
                // zlib found the stream broken before handing out a byte (a small file whose
                // checksum does not match, damaged deflate data at the start)
                throw CMFError.format("cannot read \(path): the gzip stream is corrupt")
            }
            if n <= 0 { break }
            got += Int(n)
        }
        // A broken gzip stream still gives whatever decompressed before the damage.
        let gzip = gzdirect(f) == 0
        return (Array(buf[0..<got]), gzip)
    }

    /// The whole file (or its first `limit` bytes), raw.
    static func readAll(_ path: String, limit: Int = .max) throws -> [UInt8] {
        let size = min(try regularFileSize(path), limit)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CMFError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
            LargeBuffer.adviseHugePages(buf)
            var got = 0
            while got < size {
                let n = read(fd, buf.baseAddress! + got, size - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    initialized = got
                    throw CMFError.io("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                got += n
            }
            initialized = got
        }
    }

    /// True when the file starts with the gzip magic bytes.
    static func hasGzipMagic(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var m: (UInt8, UInt8) = (0, 0)
        let n = withUnsafeMutableBytes(of: &m) { pread(fd, $0.baseAddress, 2, 0) }
        return n == 2 && m.0 == 0x1F && m.1 == 0x8B
    }

    /// True when a gzip member starts at `offset` of `bytes` (its magic bytes 0x1F 0x8B).
    /// Used for the file's start and, after each member, to tell a further member from
    /// padding or trailing bytes.
    static func isGzip<Bytes: RandomAccessCollection>(_ bytes: Bytes, at offset: Int = 0) -> Bool
    where Bytes.Element == UInt8, Bytes.Index == Int {
        offset >= bytes.startIndex && offset + 2 <= bytes.endIndex
            && bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B
    }

    /// Deflate cannot expand data more than 1032:1; a gzip file of `n` bytes holds at most
    /// this many bytes, so a header promising more is rejected before allocating.
    static func maxInflatedSize(compressed n: Int) -> Int { n * 1032 + 4096 }

    /// Inflates the gzip `compressed` (one or more members) into exactly `expected` bytes
    /// (libdeflate). Extra content after `expected` bytes is ignored.
    /// - Returns: the bytes, or the number of bytes the stream really holds when it
    ///   ends (or breaks) before `expected`.
    static func inflate(_ compressed: [UInt8], expected: Int) -> Result<[UInt8], ShortStream> {
        var out = [UInt8](unsafeUninitializedCapacity: expected) { b, n in LargeBuffer.adviseHugePages(b); n = expected }
        guard let d = libdeflate_alloc_decompressor() else { return .failure(ShortStream(found: 0, corrupt: false)) }
        defer { libdeflate_free_decompressor(d) }
        var inPos = 0, outPos = 0
        var needStreaming = false, badData = false
        compressed.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                // Either is empty only when there is nothing to inflate or nowhere to put it.
                guard let srcBase = src.baseAddress, let dstBase = dst.baseAddress else { return }
                while outPos < expected && inPos < compressed.count {
                    var inUsed = 0, outUsed = 0
                    let r = libdeflate_gzip_decompress_ex(d, srcBase + inPos, compressed.count - inPos,
                                                          dstBase + outPos, expected - outPos,
                                                          &inUsed, &outUsed)
                    if r == LIBDEFLATE_SUCCESS {
                        inPos += inUsed; outPos += outUsed
                        // Members may be followed by zero padding; stop at anything not gzip.
                        if !isGzip(compressed, at: inPos) { break }
                    } else {
                        // More content than expected (INSUFFICIENT_SPACE) or a broken stream:
                        // zlib streams exactly what is needed and tells how far it gets.
                        needStreaming = true
                        badData = r == LIBDEFLATE_BAD_DATA
                        break
                    }
                }
            }
        }
        if needStreaming {
            let streamed = streamInflate(compressed, from: inPos, into: &out, at: outPos, expected: expected)
            guard case .success = streamed else { return streamed }
            // zlib stops once it has `expected` bytes, before the member's checksum. Either
            // libdeflate read the whole member and found it broken (a bad CRC, or damage
            // further on), or the member holds more than the header promised: then its
            // checksum is verified by inflating the rest into scratch space.
            if badData || inflatedSize(compressed, upTo: .max).corrupt {
                return .failure(ShortStream(found: expected, corrupt: true))
            }
            return streamed
        }
        return outPos == expected ? .success(out) : .failure(ShortStream(found: outPos, corrupt: false))
    }

    struct ShortStream: Error { var found: Int; var corrupt: Bool }

    /// Above this many decompressed bytes (1 GiB), the stream's real size is counted
    /// before the output buffer is allocated, so a small corrupt file cannot make the
    /// reader reserve gigabytes.
    static let verifyBeforeAllocating = 1 << 30

    /// How many bytes the gzip stream (all members) decompresses to, counting at most
    /// `limit`, through a 1 MiB scratch buffer; and whether it broke before `limit`.
    static func inflatedSize(_ compressed: [UInt8], upTo limit: Int) -> (size: Int, corrupt: Bool) {
        var scratch = [UInt8](repeating: 0, count: 1 << 20)
        return compressed.withUnsafeBytes { src in
            scratch.withUnsafeMutableBytes { dst in
                let r = inflateMembers(src, from: 0, into: dst, at: 0, keeping: false, limit: limit)
                return (r.produced, r.corrupt)
            }
        }
    }

    /// zlib alone, for comparison in the benchmark.
    static func streamInflateForBenchmark(_ compressed: [UInt8], into out: inout [UInt8], expected: Int) -> Bool {
        if case .success = streamInflate(compressed, from: 0, into: &out, at: 0, expected: expected) { return true }
        return false
    }

    /// zlib's streaming inflate from member offset `inPos`, filling `out` from `outStart`
    /// and stopping at `expected` bytes (`out` holds at least `expected` bytes).
    private static func streamInflate(_ compressed: [UInt8], from inPos: Int, into out: inout [UInt8],
                                      at outStart: Int, expected: Int) -> Result<[UInt8], ShortStream> {
        let r = compressed.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                inflateMembers(src, from: inPos, into: dst, at: outStart, keeping: true, limit: expected)
            }
        }
        return r.produced >= expected ? .success(out) : .failure(ShortStream(found: r.produced, corrupt: r.corrupt))
    }

    /// The one zlib loop over gzip members: inflates `src` from byte `start` (the start of a
    /// member), one zlib stream per member, until `limit` decompressed bytes have come out
    /// (counting from `outStart`), the input ends, or what follows a member is not another
    /// member (zero padding, trailing bytes).
    /// - Parameters:
    ///   - out: with `keeping`, the destination: decompressed byte `i` lands at `out[i]`,
    ///     starting at `outStart` (`out` should hold `limit` bytes; output stops where it
    ///     ends). Without `keeping`, a scratch buffer that is overwritten again and again,
    ///     so only the count is kept.
    /// - Returns: how many decompressed bytes there are up to `limit` (`outStart` plus
    ///   those produced here; never more than `limit`), and whether zlib found the data
    ///   broken (a bad header, bad deflate data or a bad checksum) before that. A stream
    ///   that merely ends early is short, not corrupt.
    private static func inflateMembers(_ src: UnsafeRawBufferPointer, from start: Int,
                                       into out: UnsafeMutableRawBufferPointer, at outStart: Int,
                                       keeping: Bool, limit: Int) -> (produced: Int, corrupt: Bool) {
        // Either is empty only when there is nothing to read or nowhere to write.
        guard let srcBase = src.baseAddress, let outBase = out.baseAddress else { return (outStart, false) }
        var inPos = start, outPos = outStart
        while outPos < limit && inPos < src.count {
            var z = z_stream()
            guard inflateInit2_(&z, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                return (outPos, true)
            }
            defer { inflateEnd(&z) }
            var fed = inPos  // input handed to zlib so far; zlib takes at most 4 GiB at a time
            var status = Z_OK
            repeat {
                if z.avail_in == 0 && fed < src.count {
                    let n = min(src.count - fed, Int(UInt32.max))
                    z.next_in = UnsafeMutablePointer(mutating: (srcBase + fed).assumingMemoryBound(to: UInt8.self))
                    z.avail_in = UInt32(n)
                    fed += n
                }
                let at = keeping ? outPos : 0
                let room = UInt32(clamping: min(out.count - at, limit - outPos))
                z.next_out = (outBase + at).assumingMemoryBound(to: UInt8.self)
                z.avail_out = room
                status = CDeflate.inflate(&z, Z_NO_FLUSH)
                outPos += Int(room - z.avail_out)
                // Once all input is used, the next call still drains any output that did not
                // fit, then reports Z_BUF_ERROR (a short stream) or Z_STREAM_END.
            } while status == Z_OK && outPos < limit
            inPos = fed - Int(z.avail_in)
            if status == Z_STREAM_END && isGzip(src, at: inPos) { continue }
            return (outPos, status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
        }
        return (outPos, false)
    }

    /// Writes all of `p` to `fd`, retrying short writes and interruptions.
    /// - Returns: false on failure, with `errno` set.
    public static func writeAll(_ fd: Int32, _ p: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < p.count {
            let n = Glibc.write(fd, p.baseAddress! + done, p.count - done)
            if n < 0 { if errno == EINTR { continue }; return false }
            if n == 0 { errno = EIO; return false }
            done += n
        }
        return true
    }
}

/// Large voxel buffers are filled once, right after allocation; page faults then cost more
/// than the filling. Asking for transparent huge pages (2 MiB) on the buffer's interior,
/// before it is touched, cuts the faults 512-fold where the kernel allows it
/// (`/sys/kernel/mm/transparent_hugepage/enabled` = madvise or always); a no-op elsewhere.
enum LargeBuffer {
    static let hugePage = 2 << 20

    /// Checks that `bytes` can be allocated at all (the system refuses sizes beyond its
    /// memory), so a large but valid file gives `CMFError.outOfMemory` instead of a trap.
    static func requireAllocatable(_ bytes: Int, for path: String) throws {
        guard bytes >= 64 << 20 else { return }
        guard let p = malloc(bytes) else {
            throw CMFError.outOfMemory("cannot read \(path): cannot allocate \(bytes / (1 << 20)) MiB for its voxels")
        }
        free(p)
    }

    static func adviseHugePages<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        guard let base = buffer.baseAddress else { return }
        let bytes = buffer.count * MemoryLayout<T>.stride
        guard bytes >= 2 * hugePage else { return }
        let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: base) + bytes) & ~(hugePage - 1)
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, MADV_HUGEPAGE)
    }
}
