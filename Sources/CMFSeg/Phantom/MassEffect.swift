import Glibc

/// The mass effect of a glioma: surrounding tissue pushed away from the tumour.
///
/// Tissue at distance r from the core centre appears at r + s(r): s(r) = A·r inside the
/// core radius R (A = 0.25–0.45, the core itself is replaced by tumour), then
/// s(r) = A·R·exp(−(r − R)²/(2(1.5R)²)) fading outside. Since 1 − s′(r) > 0 the map stays
/// one-to-one. Implemented by adding −s(r)·(p − c)/r to the sampling displacement (the
/// small-displacement inverse), so ventricles and sulci near a tumour are compressed and
/// shifted as in real scans.
enum MassEffect {
    /// Adds the push of every glioma to the displacement field `d` (phantom voxels).
    static func add(_ gliomas: [Glioma], grid: PhantomGrid, to d: inout [[Float]]) {
        let shape = grid.shape, h = grid.spacing
        for g in gliomas {
            let R = (g.radii.x + g.radii.y + g.radii.z) / 3
            let a = g.massEffect
            let sigma = 1.5 * R
            let reach = R + 3.5 * sigma
            let m = Int((reach / h).rounded(.up))
            let c = g.centre
            let lo = SIMD3(max(0, Int(c.x) - m), max(0, Int(c.y) - m), max(0, Int(c.z) - m))
            let hi = SIMD3(min(shape.nx - 1, Int(c.x) + m), min(shape.ny - 1, Int(c.y) + m), min(shape.nz - 1, Int(c.z) + m))
            guard lo.x <= hi.x, lo.y <= hi.y, lo.z <= hi.z else { continue }
            for z in lo.z...hi.z {
                for y in lo.y...hi.y {
                    for x in lo.x...hi.x {
                        let v = (SIMD3(Double(x), Double(y), Double(z)) - c) * h
                        let r = (v * v).sum().squareRoot()
                        guard r > 1e-9, r < reach else { continue }
                        let s = r <= R ? a * r : a * R * exp(-(r - R) * (r - R) / (2 * sigma * sigma))
                        let u = v * (s / r / h)  // outward push in voxels
                        let i = shape.index(x, y, z)
                        d[0][i] -= Float(u.x); d[1][i] -= Float(u.y); d[2][i] -= Float(u.z)
                    }
                }
            }
        }
    }
}
