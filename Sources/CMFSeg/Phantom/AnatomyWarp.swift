import CCMFKernels
import Glibc

/// Tissue fractions of one phantom on its grid, after the random placement and elastic
/// warp of the template. All arrays have `grid.shape.count` values in 0…1; `gm + wm + csf
/// = mask` (the soft brain mask); `brain` is the hard mask (mask ≥ 0.5) outside which the
/// phantom's images are 0.
struct TissueMaps {
    var mask: [Float]
    var gm: [Float]
    var wm: [Float]
    var csf: [Float]
    var brain: [UInt8]
}

/// A random placement of the template in the phantom grid: rotation (≤ 8° per axis),
/// anisotropic scale (0.84–0.96, ±3 % per axis: the MNI brain is larger than most
/// patients'), translation (σ 3 mm, 2 mm in z) and a smooth elastic displacement (cubic
/// B-spline, 36 mm control spacing, σ 1.5–3 mm).
struct AnatomyWarp {
    var rotationDegrees: SIMD3<Double>
    var scale: SIMD3<Double>
    var translation: SIMD3<Double>
    var elasticSigma: Double
    var elasticSpacing: Double

    static func random(_ rng: inout SeededRandom) -> AnatomyWarp {
        let rot = SIMD3(rng.uniform(-8, 8), rng.uniform(-6, 6), rng.uniform(-8, 8))
        let base = rng.uniform(0.84, 0.96)
        let scale = SIMD3(base * rng.uniform(0.97, 1.03), base * rng.uniform(0.97, 1.03), base * rng.uniform(0.97, 1.03))
        let t = SIMD3(rng.normal() * 3, rng.normal() * 3, rng.normal() * 2)
        return AnatomyWarp(rotationDegrees: rot, scale: scale, translation: t,
                           elasticSigma: rng.uniform(1.5, 3.0), elasticSpacing: 36)
    }

    /// World (phantom) → world (template) as a 4×4: w_t = anchor_t + (R S)⁻¹ (w_p − anchor_p − t).
    func worldMap(template: TissueTemplate) -> [Double] {
        let r = rotationDegrees * (Double.pi / 180)
        let (cx, sx) = (cos(r.x), sin(r.x)), (cy, sy) = (cos(r.y), sin(r.y)), (cz, sz) = (cos(r.z), sin(r.z))
        // R = Rz Ry Rx; its inverse is the transpose
        let R: [Double] = [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
                           sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
                           -sy, cy * sx, cy * cx]
        var L = [Double](repeating: 0, count: 9)  // S⁻¹ Rᵀ
        for i in 0..<3 { for j in 0..<3 { L[3 * i + j] = R[3 * j + i] / scale[i] } }
        let shift = PhantomGrid.brainAnchorWorld + translation
        let a = template.anchorWorld
        let off = SIMD3(a.x - (L[0] * shift.x + L[1] * shift.y + L[2] * shift.z),
                        a.y - (L[3] * shift.x + L[4] * shift.y + L[5] * shift.z),
                        a.z - (L[6] * shift.x + L[7] * shift.y + L[8] * shift.z))
        return [L[0], L[1], L[2], off.x, L[3], L[4], L[5], off.y, L[6], L[7], L[8], off.z, 0, 0, 0, 1]
    }

    /// The elastic displacement field on `grid`, in phantom voxels: three arrays (x, y, z).
    /// - Throws: `CMFError.outOfMemory` from the smooth-noise kernel.
    func displacement(grid: PhantomGrid, threads: Int, rng: inout SeededRandom) throws -> [[Float]] {
        let shape = grid.shape, n = shape.count
        let spacing = SIMD3(grid.spacing, grid.spacing, grid.spacing)
        var d: [[Float]] = []
        for _ in 0..<3 {
            var f = try SmoothNoise.field(shape: shape, spacing: spacing, controlSpacing: elasticSpacing,
                                          threads: threads, rng: &rng)
            let k = Float(elasticSigma / grid.spacing)
            f.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i] *= k } }
            d.append(f)
        }
        return d
    }

    /// Resamples the template onto `grid` (trilinear) through this placement and the
    /// displacement `d` (from ``displacement(grid:threads:rng:)``, possibly with mass effect).
    /// - Throws: `CMFError.shape` for a singular template affine, `.internal` for a
    ///   displacement of the wrong size.
    func resample(_ template: TissueTemplate, grid: PhantomGrid, displacement d: [[Float]],
                  threads: Int) throws -> TissueMaps {
        let shape = grid.shape, n = shape.count
        guard d.count == 3, d.allSatisfy({ $0.count == n }) else {
            throw CMFError.internal("phantom: displacement field does not match the grid \(shape)")
        }
        guard let toVoxel = TissueTemplate.invert(template.affine) else {
            throw CMFError.shape("tissue template: the voxel-to-world affine is not invertible")
        }
        let m4 = TissueTemplate.multiply(toVoxel, TissueTemplate.multiply(worldMap(template: template), grid.affine))
        let m = Array(m4[0..<12])
        var maps = TissueMaps(mask: [Float](repeating: 0, count: n), gm: [Float](repeating: 0, count: n),
                              wm: [Float](repeating: 0, count: n), csf: [Float](repeating: 0, count: n),
                              brain: [UInt8](repeating: 0, count: n))
        let t = template.shape
        maps.mask.withUnsafeMutableBufferPointer { o0 in
            maps.gm.withUnsafeMutableBufferPointer { o1 in
                maps.wm.withUnsafeMutableBufferPointer { o2 in
                    let outs: [UnsafeMutablePointer<Float>?] = [o0.baseAddress, o1.baseAddress, o2.baseAddress]
                    withUnsafeBuffers([template.channels, d[0], d[1], d[2]]) { p in
                        m.withUnsafeBufferPointer { mp in
                            outs.withUnsafeBufferPointer { op in
                                cmfk_warp_trilinear_f32(p[0].baseAddress, Int64(t.nx), Int64(t.ny), Int64(t.nz), 3,
                                                        template.dataBox, mp.baseAddress,
                                                        p[1].baseAddress, p[2].baseAddress, p[3].baseAddress,
                                                        op.baseAddress, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz),
                                                        Int32(clamping: threads))
                            }
                        }
                    }
                }
            }
        }
        maps.mask.withUnsafeMutableBufferPointer { mk in
            maps.gm.withUnsafeMutableBufferPointer { g in
                maps.wm.withUnsafeMutableBufferPointer { w in
                    maps.csf.withUnsafeMutableBufferPointer { c in
                        maps.brain.withUnsafeMutableBufferPointer { b in
                            for i in 0..<n {
                                let mv = min(max(mk[i], 0), 1)
                                let gv = min(max(g[i], 0), mv)
                                let wv = min(max(w[i], 0), mv - gv)
                                mk[i] = mv; g[i] = gv; w[i] = wv
                                c[i] = mv - gv - wv
                                b[i] = mv >= 0.5 ? 1 : 0
                            }
                        }
                    }
                }
            }
        }
        return maps
    }
}
