import CCMFKernels

/// Smooth, spatially correlated random fields: white Gaussian noise on a coarse control
/// lattice, interpolated by a uniform cubic B-spline (`cmfk_bspline_upsample_f32`).
///
/// The correlation length is the lattice step `controlSpacing` (mm). Values have mean 0 and
/// a standard deviation close to 1 (the interpolation's variance, 0.46–0.5 of the lattice
/// variance, is compensated by a factor √2).
enum SmoothNoise {
    /// A field on `shape` with voxel size `spacing` (mm).
    /// - Parameters:
    ///   - controlSpacing: lattice step in mm (> 0); larger = smoother.
    ///   - rng: consumes `cx * cy * cz` normals, a number fixed by the arguments.
    /// - Throws: `CMFError.outOfMemory` when the kernel cannot allocate its scratch space.
    static func field(shape: Shape3, spacing: SIMD3<Double>, controlSpacing: Double,
                      threads: Int = 0, rng: inout SeededRandom) throws -> [Float] {
        let step = SIMD3(controlSpacing / spacing.x, controlSpacing / spacing.y, controlSpacing / spacing.z)
        let cx = Int(Double(shape.nx - 1) / step.x) + 4
        let cy = Int(Double(shape.ny - 1) / step.y) + 4
        let cz = Int(Double(shape.nz - 1) / step.z) + 4
        var coarse = [Float](repeating: 0, count: cx * cy * cz)
        for i in coarse.indices { coarse[i] = Float(rng.normal() * 2.0.squareRoot()) }
        var out = [Float](repeating: 0, count: shape.count)
        let rc = coarse.withUnsafeBufferPointer { c in
            out.withUnsafeMutableBufferPointer { o in
                cmfk_bspline_upsample_f32(c.baseAddress, Int64(cx), Int64(cy), Int64(cz),
                                          o.baseAddress, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz),
                                          step.x, step.y, step.z, Int32(clamping: threads))
            }
        }
        guard rc == 0 else {
            throw CMFError.outOfMemory("smooth noise: cannot allocate scratch space for a \(shape) field")
        }
        return out
    }
}
