@testable import CMFSeg

/// A small analytic brain for fast generator tests: an ellipsoid (70×84×70 mm semi-axes)
/// with a white-matter core, a grey-matter shell, a CSF rim and two ventricles, 2.5 mm voxels.
enum SyntheticTemplate {
    static func make() throws -> TissueTemplate {
        let s = 2.5
        let shape = Shape3(64, 76, 64)
        let centre = SIMD3(Double(shape.nx - 1) / 2, Double(shape.ny - 1) / 2, Double(shape.nz - 1) / 2)
        let affine: [Double] = [s, 0, 0, -centre.x * s, 0, s, 0, -centre.y * s, 0, 0, s, -centre.z * s, 0, 0, 0, 1]
        var mask = [Float](repeating: 0, count: shape.count), gm = mask, wm = mask
        func ramp(_ v: Double) -> Double { min(1, max(0, v / s + 0.5)) }
        for z in 0..<shape.nz { for y in 0..<shape.ny { for x in 0..<shape.nx {
            let p = (SIMD3(Double(x), Double(y), Double(z)) - centre) * s
            let r = ((p / SIMD3(70, 84, 70)) * (p / SIMD3(70, 84, 70))).sum().squareRoot()
            let m = ramp((1 - r) * 70)
            let brainTissue = ramp((0.95 - r) * 70)
            let white = ramp((0.7 - r) * 70)
            var vent = 0.0
            for side in [-9.0, 9.0] {
                let q = (p - SIMD3(side, 0, 5)) / SIMD3(5, 22, 9)
                vent = max(vent, ramp((1 - (q * q).sum().squareRoot()) * 6))
            }
            let i = shape.index(x, y, z)
            mask[i] = Float(m)
            wm[i] = Float(white * (1 - vent))
            gm[i] = Float(max(0, brainTissue - white) * (1 - vent))
        } } }
        return try TissueTemplate(shape: shape, affine: affine, mask: mask, gm: gm, wm: wm)
    }
}
