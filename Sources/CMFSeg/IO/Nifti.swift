import CCMFKernels
import CNifti

/// NIfTI-1 and NIfTI-2 images (`.nii`, `.nii.gz`, `.hdr` + `.img`) in and out of
/// ``ImageVolume`` and ``LabelMap``.
///
/// Reading validates the header before anything large is allocated (see
/// ``NiftiHeader`` and ``NiftiLimits``): dims, datatype, spacing, vox_offset, and that the
/// file holds all the voxel data. nifticlib turns the validated header into geometry and
/// composes the headers written; voxel data go through libdeflate and C converters.
/// Every failure is a `CMFError` with a one-line message naming the file.
public enum Nifti {
    // MARK: Reading

    /// Reads and validates the header of a NIfTI file, without its voxels.
    /// - Throws: `CMFError.io` (missing, directory, unreadable), `.format` (not NIfTI,
    ///   malformed, unsupported datatype, data shorter than the header promises),
    ///   `.shape` (not 3-D).
    public static func readHeader(_ path: String) throws -> NiftiHeader {
        let paths = NiftiPaths.resolve(path)
        let (bytes, gzip) = try FileBytes.prefix(paths.header, count: NiftiHeader.nifti2Size)
        let header = try NiftiHeader.parse(bytes, path: paths.header, dataPath: paths.data,
                                           compressed: gzip, isPair: paths.isPair)
        try checkDataSize(header)
        return header
    }

    /// Reads an image as float intensities, any supported datatype, `scl_slope` /
    /// `scl_inter` applied (see ``NiftiHeader/scaling``), geometry kept.
    /// - Parameter limits: caps on the grid and the memory of the read; nil: the process's.
    /// - Throws: as ``readHeader(_:)``; `.outOfMemory` beyond the limits.
    public static func readImage(_ path: String, limits: ResourceLimits? = nil) throws -> ImageVolume {
        let header = try readHeader(path)
        try checkLimits(header, bytesPerVoxel: MemoryLayout<Float>.size, limits)
        try LargeBuffer.requireAllocatable(header.shape.count * MemoryLayout<Float>.size, for: header.path)
        let (slope, inter) = header.scaling
        let voxels = try withVoxelData(header) { src, swap in
            [Float](unsafeUninitializedCapacity: header.shape.count) { dst, n in
                LargeBuffer.adviseHugePages(dst)
                _ = cmfk_convert_f32(src, header.datatype.rawValue, Int64(header.shape.count),
                                     swap ? 1 : 0, slope, inter, dst.baseAddress)
                n = header.shape.count
            }
        }
        return ImageVolume(shape: header.shape, geometry: header.geometry, voxels: voxels)
    }

    /// Reads a label map: every voxel (after scaling) must be an integer in 0...255, in
    /// any integer datatype or a float type holding integers.
    /// - Throws: as ``readImage(_:)``; `CMFError.format` naming the first voxel that is
    ///   not a label and its value.
    public static func readLabels(_ path: String, limits: ResourceLimits? = nil) throws -> LabelMap {
        let header = try readHeader(path)
        try checkLimits(header, bytesPerVoxel: 1, limits)
        let (slope, inter) = header.scaling
        let count = header.shape.count
        if header.datatype == .uint8 && header.isUnscaled {
            // uint8 without scaling: the file's bytes are the labels; no second buffer.
            var bytes = try voxelBytes(header)
            bytes.removeSubrange((header.voxOffset + count)...)
            bytes.removeSubrange(..<header.voxOffset)
            return LabelMap(shape: header.shape, geometry: header.geometry, voxels: bytes)
        }
        var badValue: Double?
        var badIndex = -1
        let voxels = try withVoxelData(header) { src, swap in
            [UInt8](unsafeUninitializedCapacity: count) { dst, n in
                LargeBuffer.adviseHugePages(dst)
                let r = cmfk_convert_u8(src, header.datatype.rawValue, Int64(count), swap ? 1 : 0,
                                        slope, inter, dst.baseAddress)
                if r >= 0 {
                    badIndex = Int(r)
                    badValue = cmfk_load_double(src, header.datatype.rawValue, r, swap ? 1 : 0) * slope + inter
                    dst.initialize(repeating: 0)
                }
                n = count
            }
        }
        if let badValue {
            let s = header.shape
            let (x, y, z) = (badIndex % s.nx, (badIndex / s.nx) % s.ny, badIndex / (s.nx * s.ny))
            throw CMFError.format("cannot read labels from \(header.path): voxel (\(x), \(y), \(z)) holds \(formatValue(badValue)); labels must be integers in 0...255")
        }
        return LabelMap(shape: header.shape, geometry: header.geometry, voxels: voxels)
    }

    /// The limits (nil: the process's) against the voxels and the bytes a read holds at
    /// once: the stored data (decompressed) and the converted volume.
    static func checkLimits(_ header: NiftiHeader, bytesPerVoxel: Int, _ limits: ResourceLimits?) throws {
        let count = header.shape.count
        try (limits ?? ResourceLimits.current()).check(voxels: count, bytes: count * (header.datatype.size + bytesPerVoxel),
                                           for: "reading \(header.path) (\(header.shape))")
    }

    // MARK: Grids

    /// Checks that images can be compared voxel by voxel: equal shapes and matching
    /// geometry (``Geometry/matches(_:tolerance:)``).
    /// - Throws: `CMFError.shape` naming the first item that differs from the first one.
    public static func requireSameGrid(_ items: [(name: String, shape: Shape3, geometry: Geometry)]) throws {
        guard let first = items.first else { return }
        for item in items.dropFirst() {
            if item.shape != first.shape {
                throw CMFError.shape("\(first.name) (\(first.shape)) and \(item.name) (\(item.shape)) are not on the same grid: dims differ")
            }
            if !item.geometry.matches(first.geometry) {
                let a = first.geometry, b = item.geometry
                let spacingDiff = (0..<3).map { abs(a.spacing[$0] - b.spacing[$0]) }.max() ?? 0
                let affineDiff = zip(a.affine, b.affine).map { abs($0 - $1) }.max() ?? 0
                let what = spacingDiff > 1e-4
                    ? "spacing \(fmt(a.spacing)) vs \(fmt(b.spacing))"
                    : "affines differ by up to \(formatValue(affineDiff)) mm"
                throw CMFError.shape("\(first.name) and \(item.name) are not on the same grid: \(what)")
            }
        }
    }

    // MARK: Internals

    /// nifticlib prints diagnostics to stderr at debug level > 0; cmfseg reports its own.
    static func quietNifticlib() { _ = quiet }
    private static let quiet: Void = { nifti_set_debug_level(0) }()

    /// The size checks that need no decompression: a raw data file must hold vox_offset
    /// plus the voxel bytes; a gzip file cannot hold more than deflate's 1032:1 ratio.
    static func checkDataSize(_ header: NiftiHeader) throws {
        let size = try FileBytes.regularFileSize(header.dataPath)
        let needed = header.voxOffset + header.dataByteCount
        let gzip = header.isPair ? FileBytes.hasGzipMagic(header.dataPath) : header.compressed
        if gzip {
            if needed > FileBytes.maxInflatedSize(compressed: size) {
                // Too small to hold the data (deflate expands at most 1032:1), hence cheap
                // to inflate for the message.
                let found = FileBytes.inflatedSize(try FileBytes.readAll(header.dataPath), upTo: needed)
                throw truncated(header, found: max(0, found.size - header.voxOffset),
                                detail: found.corrupt ? "the gzip stream is corrupt" : nil)
            }
        } else if size < needed {
            throw truncated(header, found: max(0, size - header.voxOffset))
        }
    }

    static func truncated(_ header: NiftiHeader, found: Int?, detail: String? = nil) -> CMFError {
        var m = "cannot read \(header.dataPath): truncated (expected \(header.dataByteCount) bytes of voxel data"
        if let found { m += ", found \(found)" }
        if let detail { m += "; \(detail)" }
        return .format(m + ")")
    }

    /// The bytes holding the voxel data at `header.voxOffset` (the whole decompressed file,
    /// or at least `voxOffset + dataByteCount` bytes of it).
    /// - Throws: `CMFError.format` when the data are truncated or the gzip stream is corrupt.
    static func voxelBytes(_ header: NiftiHeader) throws -> [UInt8] {
        let needed = header.voxOffset + header.dataByteCount
        // A raw file is read only as far as the data go; a gzip file whole.
        let gzip = header.isPair ? FileBytes.hasGzipMagic(header.dataPath) : header.compressed
        let raw = try FileBytes.readAll(header.dataPath, limit: gzip ? .max : needed)
        guard gzip && FileBytes.isGzip(raw) else {
            guard raw.count >= needed else { throw truncated(header, found: max(0, raw.count - header.voxOffset)) }
            return raw
        }
        if needed > FileBytes.verifyBeforeAllocating {
            // Far beyond any MRI volume: count what the stream really holds (small scratch
            // buffer) before allocating for it.
            let found = FileBytes.inflatedSize(raw, upTo: needed)
            if found.size < needed {
                throw truncated(header, found: max(0, found.size - header.voxOffset),
                                detail: found.corrupt ? "the gzip stream is corrupt" : nil)
            }
        }
        try LargeBuffer.requireAllocatable(needed, for: header.dataPath)
        switch FileBytes.inflate(raw, expected: needed) {
        case .success(let b): return b
        case .failure(let short) where short.corrupt && short.found >= needed:
            throw CMFError.format("cannot read \(header.dataPath): the gzip stream is corrupt (bad data or a checksum that does not match)")
        case .failure(let short):
            throw truncated(header, found: max(0, short.found - header.voxOffset),
                            detail: short.corrupt ? "the gzip stream is corrupt" : nil)
        }
    }

    /// Loads the voxel bytes and hands `body` a pointer to them, aligned for the datatype,
    /// and whether they need byte-swapping.
    static func withVoxelData<R>(_ header: NiftiHeader,
                                 _ body: (UnsafeRawPointer, Bool) throws -> R) throws -> R {
        let bytes = try voxelBytes(header)
        let needed = header.voxOffset + header.dataByteCount
        return try bytes.withUnsafeBytes { buf in
            let p = buf.baseAddress! + header.voxOffset
            if Int(bitPattern: p) % header.datatype.size == 0 {
                return try body(p, header.byteSwapped)
            }
            let copy = Array(buf[header.voxOffset..<needed])
            return try copy.withUnsafeBytes { try body($0.baseAddress!, header.byteSwapped) }
        }
    }

    static func formatValue(_ v: Double) -> String {
        if v.isFinite && v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func fmt(_ s: SIMD3<Double>) -> String {
        "\(formatValue(s.x))×\(formatValue(s.y))×\(formatValue(s.z)) mm"
    }
}
