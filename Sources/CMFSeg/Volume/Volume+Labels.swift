import CCMFKernels

extension Volume where Scalar == Float {
    /// The same image as a label map.
    /// - Throws: `CMFError.invalidArgument` naming the first voxel whose value is not an
    ///   integer in 0...255 (e.g. 3.5, 300, NaN).
    public func labelMap() throws -> LabelMap {
        guard voxels.count == shape.count else {
            throw CMFError.invalidArgument("volume of \(shape) holds \(voxels.count) voxels")
        }
        var bad = -1
        let labels = voxels.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: src.count) { dst, n in
                let r = cmfk_convert_u8(src.baseAddress, Int32(CMFK_DT_FLOAT32), Int64(src.count), 0, 1, 0, dst.baseAddress)
                if r >= 0 { bad = Int(r); dst.initialize(repeating: 0) }
                n = src.count
            }
        }
        if bad >= 0 {
            let (x, y, z) = (bad % shape.nx, (bad / shape.nx) % shape.ny, bad / (shape.nx * shape.ny))
            throw CMFError.invalidArgument("voxel (\(x), \(y), \(z)) holds \(voxels[bad]), not a label (an integer in 0...255)")
        }
        return LabelMap(shape: shape, geometry: geometry, voxels: labels)
    }
}
