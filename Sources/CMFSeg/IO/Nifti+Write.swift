import CCMFKernels
import CDeflate
import CNifti

extension Nifti {
    /// Writes a float image as float32 NIfTI-1 with its geometry (spacing, qform and sform
    /// with their codes, units). The extension picks the format: `.nii`, `.nii.gz`, or a
    /// `.hdr`/`.img` pair (`.hdr.gz`/`.img.gz` compressed). Atomic: temporary files in the
    /// same directory, renamed into place only when complete; on failure nothing is left.
    /// - Throws: `CMFError.invalidArgument` (inconsistent volume, bad geometry),
    ///   `CMFError.io` (unwritable destination).
    public static func write(_ volume: ImageVolume, to path: String, description: String? = nil) throws {
        try volume.voxels.withUnsafeBytes {
            try writeVoxels($0, count: volume.voxels.count, shape: volume.shape, geometry: volume.geometry,
                            datatype: .float32, path: path, description: description)
        }
    }

    /// Writes a label map as uint8 NIfTI-1; otherwise as ``write(_:to:description:)-(ImageVolume,_,_)``.
    public static func write(_ labels: LabelMap, to path: String, description: String? = nil) throws {
        try labels.voxels.withUnsafeBytes {
            try writeVoxels($0, count: labels.voxels.count, shape: labels.shape, geometry: labels.geometry,
                            datatype: .uint8, path: path, description: description)
        }
    }

    /// The gzip level of written `.nii.gz` files (libdeflate 1...12; 6 is zlib's default).
    static let gzipLevel: Int32 = 6

    private static func writeVoxels(_ data: UnsafeRawBufferPointer, count: Int, shape: Shape3, geometry: Geometry,
                                    datatype: NiftiDatatype, path: String, description: String?) throws {
        guard !path.isEmpty else { throw CMFError.invalidArgument("cannot write: empty output path") }
        guard count == shape.count, shape.nx >= 1, shape.ny >= 1, shape.nz >= 1,
              max(shape.nx, shape.ny, shape.nz) <= NiftiLimits.maxAxis, shape.count <= NiftiLimits.maxVoxels else {
            throw CMFError.invalidArgument("cannot write \(path): volume of \(shape) with \(count) voxels is inconsistent or beyond the limits")
        }
        guard NiftiPaths.isWritable(path) else {
            throw CMFError.invalidArgument("cannot write \(path): unknown extension (use .nii, .nii.gz, or .hdr/.img)")
        }
        let paths = NiftiPaths.resolve(path)
        let header = try composeHeader(shape: shape, geometry: geometry, datatype: datatype,
                                       single: !paths.isPair, description: description, path: path)
        if paths.isPair {
            let img = try encode([], data, gzip: NiftiPaths.wantsGzip(paths.data), path: paths.data)
            let hdr = try encode(header, UnsafeRawBufferPointer(start: nil, count: 0),
                                 gzip: NiftiPaths.wantsGzip(paths.header), path: paths.header)
            try AtomicFile.write([(paths.data, img), (paths.header, hdr)])
        } else {
            let bytes = try encode(header + [0, 0, 0, 0], data, gzip: NiftiPaths.wantsGzip(path), path: path)
            try AtomicFile.write([(path, bytes)])
        }
    }

    /// Header bytes then data, gzip-compressed when asked (libdeflate).
    static func encode(_ head: [UInt8], _ data: UnsafeRawBufferPointer, gzip: Bool, path: String) throws -> AtomicFile.Content {
        if !gzip { return .parts(head, data) }
        var plain = [UInt8](unsafeUninitializedCapacity: head.count + data.count) { buf, n in
            head.withUnsafeBytes { h in
                if h.count > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: h.baseAddress!, byteCount: h.count) }
            }
            if data.count > 0 {
                UnsafeMutableRawPointer(buf.baseAddress! + head.count).copyMemory(from: data.baseAddress!, byteCount: data.count)
            }
            n = head.count + data.count
        }
        guard let c = libdeflate_alloc_compressor(gzipLevel) else {
            throw CMFError.outOfMemory("cannot write \(path): no memory for the gzip compressor")
        }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_gzip_compress_bound(c, plain.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = plain.withUnsafeMutableBytes { src in
            out.withUnsafeMutableBytes { dst in
                libdeflate_gzip_compress(c, src.baseAddress, src.count, dst.baseAddress, dst.count)
            }
        }
        plain = []
        guard n > 0 else { throw CMFError.internal("cannot write \(path): gzip compression failed") }
        out.removeSubrange(n...)
        return .bytes(out)
    }

    /// The 348-byte NIfTI-1 header, composed by nifticlib from the geometry.
    static func composeHeader(shape: Shape3, geometry g: Geometry, datatype: NiftiDatatype, single: Bool,
                              description: String?, path: String) throws -> [UInt8] {
        quietNifticlib()
        func bad(_ why: String) -> CMFError { .invalidArgument("cannot write \(path): \(why)") }
        for i in 0..<3 where !(g.spacing[i].isFinite && g.spacing[i] > 0) {
            throw bad("voxel spacing \(g.spacing[i]) is not a positive finite number")
        }
        guard g.qform.count == 16, g.sform.count == 16,
              !g.qform.contains(where: { !$0.isFinite }), !g.sform.contains(where: { !$0.isFinite }) else {
            throw bad("qform and sform must be 16 finite numbers each")
        }
        var dims: [Int64] = [3, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz), 1, 1, 1, 1]
        guard let nim = nifti_make_new_nim(&dims, Int32(datatype.rawValue), 0) else {
            throw CMFError.outOfMemory("cannot write \(path): nifticlib could not make an image header")
        }
        defer { nifti_image_free(nim) }
        nim.pointee.dx = g.spacing.x; nim.pointee.dy = g.spacing.y; nim.pointee.dz = g.spacing.z
        withUnsafeMutableBytes(of: &nim.pointee.pixdim) { p in
            let d = p.bindMemory(to: Double.self)
            d[1] = g.spacing.x; d[2] = g.spacing.y; d[3] = g.spacing.z
        }
        let q = qformParameters(g)
        nim.pointee.qform_code = g.qformCode
        nim.pointee.quatern_b = q.b; nim.pointee.quatern_c = q.c; nim.pointee.quatern_d = q.d
        nim.pointee.qoffset_x = q.offset.x; nim.pointee.qoffset_y = q.offset.y; nim.pointee.qoffset_z = q.offset.z
        nim.pointee.qfac = q.qfac
        nim.pointee.sform_code = g.sformCode
        nim.pointee.sto_xyz = dmat(g.sform)
        nim.pointee.xyz_units = g.xyztUnits & 0x07
        nim.pointee.time_units = g.xyztUnits & 0x38
        nim.pointee.scl_slope = 1
        nim.pointee.scl_inter = 0
        nim.pointee.nifti_type = single ? 1 : 2  // NIFTI_FTYPE_NIFTI1_1 / NIFTI1_2
        nim.pointee.iname_offset = single ? 352 : 0
        if let description {
            let utf8 = Array(description.utf8.prefix(79))
            withUnsafeMutableBytes(of: &nim.pointee.descrip) { p in
                p.initializeMemory(as: UInt8.self, repeating: 0)
                p.copyBytes(from: utf8)
            }
        }
        var hdr = nifti_1_header()
        guard nifti_convert_nim2n1hdr(nim, &hdr) == 0 else {
            throw CMFError.internal("cannot write \(path): nifticlib could not compose the header")
        }
        if g.sformCode <= 0 {
            // Keep srow as given even without an sform code (nibabel does the same).
            let s = g.sform.map(Float.init)
            hdr.srow_x = (s[0], s[1], s[2], s[3]); hdr.srow_y = (s[4], s[5], s[6], s[7]); hdr.srow_z = (s[8], s[9], s[10], s[11])
        }
        // nifticlib writes the quaternion only with a qform code; keep it as given anyway.
        hdr.quatern_b = Float(q.b); hdr.quatern_c = Float(q.c); hdr.quatern_d = Float(q.d)
        hdr.qoffset_x = Float(q.offset.x); hdr.qoffset_y = Float(q.offset.y); hdr.qoffset_z = Float(q.offset.z)
        hdr.pixdim.0 = Float(q.qfac)
        return withUnsafeBytes(of: &hdr) { Array($0) }
    }

    /// The quaternion parameters to write: the ones read, while they still give the
    /// geometry's qform (or there is no qform code); else nifticlib's decomposition of the
    /// qform matrix.
    static func qformParameters(_ g: Geometry) -> QformParameters {
        if let p = g.qformParameters {
            // Without a qform code the matrix is plain scaling; the stored fields are kept.
            if g.qformCode <= 0 { return p }
            let m = dmat(nifti_quatern_to_dmat44(p.b, p.c, p.d, p.offset.x, p.offset.y, p.offset.z,
                                                 g.spacing.x, g.spacing.y, g.spacing.z, p.qfac))
            if zip(m, g.qform).allSatisfy({ abs($0 - $1) <= 1e-5 * max(1, abs($1)) }) { return p }
        }
        if g.qformCode <= 0 && g.qformParameters == nil {
            return QformParameters(b: 0, c: 0, d: 0, offset: .zero, qfac: 1)
        }
        var b = 0.0, c = 0.0, d = 0.0, x = 0.0, y = 0.0, z = 0.0, dx = 0.0, dy = 0.0, dz = 0.0, qfac = 0.0
        nifti_dmat44_to_quatern(dmat(g.qform), &b, &c, &d, &x, &y, &z, &dx, &dy, &dz, &qfac)
        return QformParameters(b: b, c: c, d: d, offset: SIMD3(x, y, z), qfac: qfac)
    }
}
