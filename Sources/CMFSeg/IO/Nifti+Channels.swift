import FoundationEssentials

extension Nifti {
    /// Writes same-grid float volumes as one 4-D float32 NIfTI-1 image (`.nii` or `.nii.gz`):
    /// dims (nx, ny, nz, channels), channel c is the 3-D block at t = c (nibabel loads it as an
    /// array of shape (nx, ny, nz, channels)), pixdim[4] = 1, no intent code, the first
    /// volume's geometry. Atomic, as ``write(_:to:description:)-(ImageVolume,_,_)``.
    /// - Throws: `CMFError.invalidArgument` (no volume, grids differ, more than 32767
    ///   channels, a path not ending in .nii or .nii.gz), `CMFError.io`.
    public static func write(channels: [ImageVolume], to path: String, description: String? = nil) throws {
        try AtomicFile.write([(path, channelsContent(channels, path: path, description: description))])
    }

    /// The bytes of ``write(channels:to:description:)``, for writing several files together.
    static func channelsContent(_ channels: [ImageVolume], path: String, description: String?) throws -> AtomicFile.Content {
        guard let first = channels.first else { throw CMFError.invalidArgument("cannot write \(path): no channel") }
        guard channels.count <= Int(Int16.max) else {
            throw CMFError.invalidArgument("cannot write \(path): \(channels.count) channels exceed NIfTI-1's 32767")
        }
        try NiftiPaths.requireSingleFile(path, what: "a 4-D image")
        for v in channels where v.shape != first.shape || v.voxels.count != first.shape.count || !v.geometry.matches(first.geometry, tolerance: 0) {
            throw CMFError.invalidArgument("cannot write \(path): channels are not on one grid")
        }
        guard first.shape.count <= NiftiLimits.maxVoxels / channels.count else {
            throw CMFError.invalidArgument("cannot write \(path): \(first.shape) × \(channels.count) channels exceed the size limit")
        }
        var header = try composeHeader(shape: first.shape, geometry: first.geometry, datatype: .float32,
                                       single: true, description: description, path: path)
        // NIfTI-1 layout: dim[8] (int16) at byte 40, pixdim[8] (float32) at byte 76.
        header.withUnsafeMutableBytes { h in
            h.storeBytes(of: Int16(4).littleEndian, toByteOffset: 40, as: Int16.self)
            h.storeBytes(of: Int16(channels.count).littleEndian, toByteOffset: 40 + 2 * 4, as: Int16.self)
            h.storeBytes(of: Float(1).bitPattern.littleEndian, toByteOffset: 76 + 4 * 4, as: UInt32.self)
        }
        var data = [Float]()
        data.reserveCapacity(first.shape.count * channels.count)
        for v in channels { data.append(contentsOf: v.voxels) }
        return try data.withUnsafeBytes { try owned(encode(header + [0, 0, 0, 0], $0, gzip: NiftiPaths.wantsGzip(path), path: path)) }
    }

    /// The bytes of a uint8 label map file (single `.nii` / `.nii.gz`), for writing several
    /// files together.
    static func labelsContent(_ labels: LabelMap, path: String, description: String?) throws -> AtomicFile.Content {
        try NiftiPaths.requireSingleFile(path, what: "the label map")
        let header = try composeHeader(shape: labels.shape, geometry: labels.geometry, datatype: .uint8,
                                       single: true, description: description, path: path)
        return try labels.voxels.withUnsafeBytes { try owned(encode(header + [0, 0, 0, 0], $0, gzip: NiftiPaths.wantsGzip(path), path: path)) }
    }

    /// Content that owns its bytes (`.parts` borrows a buffer valid only inside its closure).
    private static func owned(_ c: AtomicFile.Content) -> AtomicFile.Content {
        switch c {
        case .bytes: return c
        case .parts(let head, let data): return .bytes(head + Array(data))
        }
    }

    /// Writes a label map and, optionally, a 4-D probability image in one step: both files
    /// are complete in temporaries before either is renamed into place.
    /// - Throws: as ``write(channels:to:description:)``.
    public static func write(labels: LabelMap, to path: String, probabilities: [ImageVolume]?, to probabilityPath: String?,
                             description: String?) throws {
        var files = [(path: String, content: AtomicFile.Content)]()
        files.append((path, try labelsContent(labels, path: path, description: description)))
        if let probabilities, let probabilityPath {
            guard URL(fileURLWithPath: probabilityPath).standardizedFileURL != URL(fileURLWithPath: path).standardizedFileURL else {
                throw CMFError.invalidArgument("the probability output \(probabilityPath) is the label output too")
            }
            files.append((probabilityPath, try channelsContent(probabilities, path: probabilityPath, description: description)))
        }
        try AtomicFile.write(files)
    }
}
