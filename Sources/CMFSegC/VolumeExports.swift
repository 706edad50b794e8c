import CMFSeg
import CMFSegABI
import Glibc

// cmf_volume_*: 3-D images with their NIfTI geometry (include/cmfseg.h, "Volumes").

/// What a `cmf_volume *` points to: a retained box owning an immutable volume's voxels in
/// a buffer of its own, so that `cmf_volume_data` lends a pointer that stays valid for the
/// box's lifetime (an array's storage is only promised inside `withUnsafeBufferPointer`).
final class VolumeBox {
    let shape: Shape3
    let geometry: Geometry
    let data: UnsafeMutableBufferPointer<Float>

    init(_ volume: ImageVolume) {
        shape = volume.shape
        geometry = volume.geometry
        data = .allocate(capacity: volume.voxels.count)
        _ = data.initialize(from: volume.voxels)
    }

    deinit { data.deallocate() }

    /// The volume for the library's calls, which take arrays: a copy of the voxels.
    var volume: ImageVolume { ImageVolume(shape: shape, geometry: geometry, voxels: Array(data)) }

    /// A new handle owning a reference to a box for `volume` (freed by cmf_volume_free).
    static func handle(_ volume: ImageVolume) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(VolumeBox(volume)).toOpaque())
    }

    /// The box behind a handle, without taking ownership.
    static func from(_ handle: OpaquePointer) -> VolumeBox {
        Unmanaged<VolumeBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// The box behind a handle argument, or the uniform NULL error.
    static func box(_ handle: OpaquePointer?, _ name: String, in function: String) throws -> VolumeBox {
        from(try required(handle, name, in: function))
    }
}

@_cdecl("cmf_volume_read")
public func cmf_volume_read(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> cmf_status {
    guarded {
        let file = try CMFSegC.path(path, "path", in: "cmf_volume_read")
        let out = try required(out, "out", in: "cmf_volume_read")
        out.pointee = VolumeBox.handle(try Nifti.readImage(file))
    }
}

@_cdecl("cmf_volume_create")
public func cmf_volume_create(_ nx: Int64, _ ny: Int64, _ nz: Int64, _ spacing: UnsafePointer<Double>?,
                              _ data: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> cmf_status {
    guarded {
        let f = "cmf_volume_create"
        let out = try required(out, "out", in: f)
        let (shape, s) = try grid(nx, ny, nz, spacing: spacing, tooLarge: CMFError.outOfMemory, in: f)
        try ResourceLimits.current().check(voxels: shape.count, bytes: 4 * shape.count, for: f)
        let voxels = data.map { Array(UnsafeBufferPointer(start: $0, count: shape.count)) }
            ?? [Float](repeating: 0, count: shape.count)
        out.pointee = VolumeBox.handle(ImageVolume(shape: shape, geometry: Geometry(spacing: s), voxels: voxels))
    }
}

@_cdecl("cmf_volume_free")
public func cmf_volume_free(_ volume: OpaquePointer?) {
    guard let volume else { return }
    Unmanaged<VolumeBox>.fromOpaque(UnsafeRawPointer(volume)).release()
}

@_cdecl("cmf_volume_dims")
public func cmf_volume_dims(_ volume: OpaquePointer?, _ dims: UnsafeMutablePointer<Int64>?) -> cmf_status {
    guarded {
        let v = try VolumeBox.box(volume, "volume", in: "cmf_volume_dims")
        let dims = try required(dims, "dims", in: "cmf_volume_dims")
        dims[0] = Int64(v.shape.nx); dims[1] = Int64(v.shape.ny); dims[2] = Int64(v.shape.nz)
    }
}

@_cdecl("cmf_volume_spacing")
public func cmf_volume_spacing(_ volume: OpaquePointer?, _ spacing: UnsafeMutablePointer<Double>?) -> cmf_status {
    guarded {
        let v = try VolumeBox.box(volume, "volume", in: "cmf_volume_spacing")
        let spacing = try required(spacing, "spacing", in: "cmf_volume_spacing")
        for i in 0..<3 { spacing[i] = v.geometry.spacing[i] }
    }
}

@_cdecl("cmf_volume_affine")
public func cmf_volume_affine(_ volume: OpaquePointer?, _ affine: UnsafeMutablePointer<Double>?) -> cmf_status {
    guarded {
        let v = try VolumeBox.box(volume, "volume", in: "cmf_volume_affine")
        let affine = try required(affine, "affine", in: "cmf_volume_affine")
        for (i, a) in v.geometry.affine.enumerated() { affine[i] = a }
    }
}

@_cdecl("cmf_volume_data")
public func cmf_volume_data(_ volume: OpaquePointer?) -> UnsafePointer<Float>? {
    guard let volume else { return nil }
    return UnsafePointer(VolumeBox.from(volume).data.baseAddress)
}

@_cdecl("cmf_volume_write")
public func cmf_volume_write(_ volume: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dtype: cmf_dtype) -> cmf_status {
    guarded {
        let f = "cmf_volume_write"
        let v = try VolumeBox.box(volume, "volume", in: f).volume
        let file = try CMFSegC.path(path, "path", in: f)
        switch dtype {
        case CMF_DTYPE_FLOAT32:
            try Nifti.write(v, to: file)
        case CMF_DTYPE_UINT8:
            let labels: LabelMap
            do { labels = try v.labelMap() } catch let e as CMFError {
                throw CMFError.invalidArgument("cannot write \(file) as uint8: \(e.message)")
            }
            try Nifti.write(labels, to: file)
        default:
            throw CMFError.invalidArgument("\(f): unknown dtype \(dtype.rawValue) (use CMF_DTYPE_UINT8 or CMF_DTYPE_FLOAT32)")
        }
    }
}
