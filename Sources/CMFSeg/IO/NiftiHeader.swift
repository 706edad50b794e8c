import CNifti

/// What a NIfTI header says about an image, validated: a 3-D grid within the limits, a
/// supported datatype, positive finite spacing, a sane data offset.
///
/// Obtain one with ``Nifti/readHeader(_:)``; it never holds voxels.
public struct NiftiHeader: Sendable, Equatable {
    /// The header file as given (the `.nii`, `.nii.gz` or `.hdr`).
    public var path: String
    /// Where the voxel data are (equal to `path`, or the `.img` of a pair).
    public var dataPath: String
    /// 1 for NIfTI-1 (348-byte header), 2 for NIfTI-2 (540 bytes).
    public var version: Int
    /// `dim[0...7]` as stored (dim[0] = number of dimensions).
    public var dims: [Int]
    /// The 3-D grid.
    public var shape: Shape3
    public var datatype: NiftiDatatype
    /// Byte offset of the voxel data in `dataPath` (after decompression).
    public var voxOffset: Int
    /// `scl_slope` / `scl_inter` as stored; see ``scaling`` for what readers apply.
    public var sclSlope: Double
    public var sclInter: Double
    public var geometry: Geometry
    /// The `descrip` field (up to 80 characters).
    public var descrip: String
    /// True when the file is big-endian (data are byte-swapped on read).
    public var byteSwapped: Bool
    /// True when the header file is gzip-compressed.
    public var compressed: Bool
    /// True for a `.hdr` + `.img` pair.
    public var isPair: Bool

    /// Voxel data size in bytes.
    public var dataByteCount: Int { shape.count * datatype.size }

    /// The scaling readers apply, value = stored × slope + inter. As in nibabel and
    /// nifticlib, a slope of 0 or a non-finite slope means "no scaling" (1, 0); a
    /// non-finite intercept counts as 0.
    public var scaling: (slope: Double, inter: Double) {
        guard sclSlope.isFinite, sclSlope != 0 else { return (1, 0) }
        return (sclSlope, sclInter.isFinite ? sclInter : 0)
    }

    /// True when reading applies no scaling.
    public var isUnscaled: Bool { let s = scaling; return s.slope == 1 && s.inter == 0 }
}

/// Limits a header must respect before anything is allocated for its data. They exceed
/// any MRI volume (a BraTS image is 240×240×155) while keeping a corrupt header from
/// requesting gigabytes.
public enum NiftiLimits {
    /// Largest extent of one axis.
    public static let maxAxis = 16_384
    /// Largest number of voxels (2^31 - 1; 8 GiB as float32).
    public static let maxVoxels = Int(Int32.max)
}

// MARK: - Parsing

extension NiftiHeader {
    static let nifti1Size = 348
    static let nifti2Size = 540

    /// Parses and validates the raw header bytes (at least 348 bytes; 540 for NIfTI-2).
    /// - Parameters:
    ///   - bytes: the first bytes of the (decompressed) header file.
    ///   - path / dataPath / compressed / isPair: where the bytes came from.
    /// - Throws: `CMFError.format` for anything malformed or unsupported, `.shape` for
    ///   images that are not 3-D.
    static func parse(_ bytes: [UInt8], path: String, dataPath: String, compressed: Bool,
                      isPair: Bool) throws -> NiftiHeader {
        func fail(_ why: String) -> CMFError { .format("cannot read \(path): \(why)") }
        if bytes.isEmpty { throw fail("empty file") }
        guard bytes.count >= 4 else { throw fail("not a NIfTI file (only \(bytes.count) bytes)") }

        let le = RawBytes(bytes, bigEndian: false), be = RawBytes(bytes, bigEndian: true)
        let version: Int, raw: RawBytes
        switch (le.i32(0), be.i32(0)) {
        case (348, _): (version, raw) = (1, le)
        case (_, 348): (version, raw) = (1, be)
        case (540, _): (version, raw) = (2, le)
        case (_, 540): (version, raw) = (2, be)
        default:
            throw fail("not a NIfTI file (sizeof_hdr is \(le.i32(0)), expected 348 or 540)")
        }
        let headerSize = version == 1 ? nifti1Size : nifti2Size
        guard bytes.count >= headerSize else {
            throw fail("truncated header (\(bytes.count) of \(headerSize) bytes)")
        }

        // Magic: "n+1\0"/"ni1\0" at 344 (NIfTI-1); "n+2\0\r\n\u{1A}\n"/"ni2..." at 4 (NIfTI-2).
        let magic = version == 1 ? Array(bytes[344..<348]) : Array(bytes[4..<12])
        let single: Bool
        if version == 1 {
            switch magic {
            case [0x6E, 0x2B, 0x31, 0]: single = true
            case [0x6E, 0x69, 0x31, 0]: single = false
            case [0, 0, 0, 0]: throw fail("ANALYZE 7.5 file (no NIfTI magic); only NIfTI-1 and NIfTI-2 are supported")
            default: throw fail("bad NIfTI-1 magic \(magicString(magic))")
            }
        } else {
            let tail: [UInt8] = [0x0D, 0x0A, 0x1A, 0x0A]
            switch (Array(magic[0..<4]), Array(magic[4..<8])) {
            case ([0x6E, 0x2B, 0x32, 0], tail): single = true
            case ([0x6E, 0x69, 0x32, 0], tail): single = false
            default: throw fail("bad NIfTI-2 magic \(magicString(magic))")
            }
        }
        if single && isPair {
            throw fail("header says single file (n+\(version)) but was given as a .hdr/.img pair")
        }
        if !single && !isPair {
            throw fail("header says its data are in a separate .img file (ni\(version) magic); open the .hdr")
        }

        // Fields by version.
        var dims = [Int](repeating: 0, count: 8)
        var pixdim = [Double](repeating: 0, count: 8)
        let datatypeCode: Int32, voxOffsetRaw: Double, slope: Double, inter: Double
        let descripBytes: ArraySlice<UInt8>
        if version == 1 {
            for i in 0..<8 { dims[i] = Int(raw.i16(40 + 2 * i)); pixdim[i] = Double(raw.f32(76 + 4 * i)) }
            datatypeCode = Int32(raw.i16(70))
            voxOffsetRaw = Double(raw.f32(108))
            slope = Double(raw.f32(112)); inter = Double(raw.f32(116))
            descripBytes = bytes[148..<228]
        } else {
            for i in 0..<8 {
                dims[i] = Int(truncatingIfNeeded: raw.i64(16 + 8 * i))
                pixdim[i] = raw.f64(104 + 8 * i)
            }
            datatypeCode = Int32(raw.i16(12))
            let off = raw.i64(168)
            voxOffsetRaw = off > Int64(1) << 52 ? .infinity : Double(off)
            slope = raw.f64(176); inter = raw.f64(184)
            descripBytes = bytes[240..<320]
        }

        // Dimensions: 3-D, or more with trailing extents of 1.
        let ndim = dims[0]
        guard (1...7).contains(ndim) else { throw fail("impossible dim[0] = \(ndim) (must be 1...7)") }
        let used = Array(dims[1...ndim])
        if let bad = used.first(where: { $0 < 1 }) {
            throw fail("impossible dims \(used) (extent \(bad) < 1)")
        }
        guard ndim >= 3 else {
            throw CMFError.shape("cannot read \(path): \(ndim)-D image (dims \(used)); cmfseg reads 3-D images")
        }
        if ndim > 3, used[3...].contains(where: { $0 != 1 }) {
            throw CMFError.shape("cannot read \(path): \(ndim)-D image (dims \(used)); cmfseg reads 3-D images (a 4th extent of 1 is fine)")
        }
        let (nx, ny, nz) = (used[0], used[1], used[2])
        guard max(nx, ny, nz) <= NiftiLimits.maxAxis else {
            throw fail("dims \(nx)×\(ny)×\(nz) exceed the limit of \(NiftiLimits.maxAxis) per axis")
        }
        guard nx * ny * nz <= NiftiLimits.maxVoxels else {
            throw fail("dims \(nx)×\(ny)×\(nz) exceed the limit of \(NiftiLimits.maxVoxels) voxels")
        }

        guard let datatype = NiftiDatatype(rawValue: datatypeCode) else {
            throw fail("unsupported datatype \(NiftiDatatype.describe(code: datatypeCode))")
        }

        let spacing = SIMD3(pixdim[1], pixdim[2], pixdim[3])
        for i in 0..<3 where !(spacing[i].isFinite && spacing[i] > 0) {
            throw fail("voxel spacing pixdim[\(i + 1)] = \(spacing[i]) is not a positive finite number")
        }

        // vox_offset: integral, past the header (single file), inside sane bounds.
        let minOffset = single ? headerSize : 0
        guard voxOffsetRaw.isFinite, voxOffsetRaw == voxOffsetRaw.rounded(),
              voxOffsetRaw >= Double(minOffset), voxOffsetRaw <= Double(1 << 40) else {
            throw fail("bad vox_offset \(voxOffsetRaw) (must be a whole number ≥ \(minOffset))")
        }

        // Geometry, by nifticlib from the validated header.
        let geometry = try nifticlibGeometry(bytes, version: version, bigEndian: raw.bigEndian, path: path)
        for (name, m) in [("qform", geometry.qform), ("sform", geometry.sform)] where m.contains(where: { !$0.isFinite }) {
            if (name == "qform" ? geometry.qformCode : geometry.sformCode) > 0 {
                throw fail("\(name) has non-finite entries")
            }
        }

        return NiftiHeader(
            path: path, dataPath: dataPath, version: version, dims: dims,
            shape: Shape3(nx, ny, nz), datatype: datatype, voxOffset: Int(voxOffsetRaw),
            sclSlope: slope, sclInter: inter, geometry: geometry,
            descrip: String(decoding: descripBytes.prefix(while: { $0 != 0 }), as: UTF8.self),
            byteSwapped: raw.bigEndian, compressed: compressed, isPair: isPair)
    }

    private static func magicString(_ m: [UInt8]) -> String {
        "\"" + m.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : String(cFormat: "\\x%02x", $0) }.joined() + "\""
    }

    /// Lets nifticlib turn the header into its image struct (no data) and takes the
    /// geometry from it: qform from the quaternion, sform from srow, spacing, units.
    private static func nifticlibGeometry(_ bytes: [UInt8], version: Int, bigEndian: Bool, path: String) throws -> Geometry {
        Nifti.quietNifticlib()
        let nim: UnsafeMutablePointer<nifti_image>?
        if version == 1 {
            var h = nifti_1_header()
            withUnsafeMutableBytes(of: &h) { $0.copyBytes(from: bytes[0..<MemoryLayout<nifti_1_header>.size]) }
            nim = nifti_convert_n1hdr2nim(h, nil)
        } else {
            var h = nifti_2_header()
            withUnsafeMutableBytes(of: &h) { $0.copyBytes(from: bytes[0..<MemoryLayout<nifti_2_header>.size]) }
            nim = nifti_convert_n2hdr2nim(h, nil)
        }
        guard let nim else { throw CMFError.format("cannot read \(path): nifticlib rejects the header") }
        defer { nifti_image_free(nim) }
        let n = nim.pointee
        let raw = RawBytes(bytes, bigEndian: bigEndian)
        var sform = dmat(n.sto_xyz)
        if n.sform_code <= 0 {
            // nifticlib leaves sto_xyz unset without an sform code; keep srow as stored.
            var srow = [Double](repeating: 0, count: 16)
            for i in 0..<12 { srow[i] = version == 1 ? Double(raw.f32(280 + 4 * i)) : raw.f64(400 + 8 * i) }
            srow[15] = 1
            sform = srow
        }
        let xyzt = version == 1 ? Int32(bytes[123]) : raw.i32(500)
        var g = Geometry(spacing: SIMD3(n.dx, n.dy, n.dz), qformCode: Int32(n.qform_code),
                         qform: dmat(n.qto_xyz), sformCode: Int32(n.sform_code), sform: sform,
                         xyztUnits: xyzt)
        // The quaternion as stored (nifticlib zeroes it when qform_code is 0; nibabel keeps it).
        let q: [Double] = (0..<6).map { version == 1 ? Double(raw.f32(256 + 4 * $0)) : raw.f64(352 + 8 * $0) }
        let pixdim0 = version == 1 ? Double(raw.f32(76)) : raw.f64(104)
        g.qformParameters = QformParameters(b: q[0], c: q[1], d: q[2], offset: SIMD3(q[3], q[4], q[5]),
                                            qfac: pixdim0 < 0 ? -1 : 1)
        return g
    }
}

/// A row-major [Double] of 16 from nifticlib's matrix.
func dmat(_ m: nifti_dmat44) -> [Double] {
    var out = [Double](repeating: 0, count: 16)
    withUnsafeBytes(of: m.m) { p in
        let d = p.bindMemory(to: Double.self)
        for i in 0..<16 { out[i] = d[i] }
    }
    return out
}

/// nifticlib's matrix from a row-major [Double] of 16.
func dmat(_ a: [Double]) -> nifti_dmat44 {
    var m = nifti_dmat44()
    withUnsafeMutableBytes(of: &m.m) { p in
        let d = p.bindMemory(to: Double.self)
        for i in 0..<16 { d[i] = a[i] }
    }
    return m
}

/// Little helper reading numbers of either byte order from a byte array.
struct RawBytes {
    let bytes: [UInt8]
    let bigEndian: Bool
    init(_ bytes: [UInt8], bigEndian: Bool) { self.bytes = bytes; self.bigEndian = bigEndian }

    private func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
        guard offset + MemoryLayout<T>.size <= bytes.count else { return 0 }
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[offset..<offset + MemoryLayout<T>.size]) }
        return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
    }
    func i16(_ o: Int) -> Int16 { load(o, Int16.self) }
    func i32(_ o: Int) -> Int32 { load(o, Int32.self) }
    func i64(_ o: Int) -> Int64 { load(o, Int64.self) }
    func f32(_ o: Int) -> Float { Float(bitPattern: load(o, UInt32.self)) }
    func f64(_ o: Int) -> Double { Double(bitPattern: load(o, UInt64.self)) }
}
