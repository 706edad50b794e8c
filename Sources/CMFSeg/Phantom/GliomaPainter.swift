import CCMFKernels
import Glibc

/// Tumour compartments as volume fractions of each voxel (0…1, the four summing to ≤ the
/// voxel's brain fraction): necrosis (NCR), non-enhancing core (NET), enhancing tumour
/// (ET), edema (ED). Partial volume: each boundary is a one-voxel linear ramp, crossing 0.5
/// where the boundary lies (`TumourLabels` thresholds at 0.5).
struct TumourFractions {
    var ncr: [Float]
    var net: [Float]
    var et: [Float]
    var ed: [Float]

    init(count: Int) {
        ncr = [Float](repeating: 0, count: count)
        net = ncr; et = ncr; ed = ncr
    }
}

/// Rasterises gliomas into `TumourFractions`.
///
/// Core: level function ρ(p) = |D⁻¹Rᵀ(p − c)| + a·n₁(p) (n₁ smooth noise, 10 mm), core
/// where ρ < 1; ring kind: necrosis where ρ < ν + 0.08·n₂(p), enhancing rim between. The
/// viable tumour (rim, or the whole solid core) is non-enhancing (label 1) in patches where
/// a smooth noise n₅ (7 mm) falls below the glioma's threshold.
/// Edema: geodesic distance from the core (`cmfk_geodesic_f32`) with speed (1·WM + 0.15·GM +
/// 0.02·CSF)·exp(0.4·n₄(p)) per voxel (n₄ smooth noise, 6 mm, clipped to ±1.5), so it runs
/// along white-matter tracts in irregular fingers and stops at cortex and ventricles; edema
/// where that distance < reach·(1 + 0.3·n₃(p)), weighted by the voxel's parenchyma fraction.
enum GliomaPainter {
    static func paint(_ gliomas: [Glioma], tissue: TissueMaps, grid: PhantomGrid,
                      rng: inout SeededRandom, into f: inout TumourFractions) throws {
        for g in gliomas { try paint(g, tissue: tissue, grid: grid, rng: &rng, into: &f) }
        // cores win over edema; keep the sum ≤ 1
        for i in 0..<f.ed.count where f.ed[i] > 0 || f.ncr[i] > 0 || f.et[i] > 0 || f.net[i] > 0 {
            let core = f.ncr[i] + f.net[i] + f.et[i]
            if core > 1 { f.ncr[i] /= core; f.net[i] /= core; f.et[i] /= core }
            f.ed[i] = min(f.ed[i], max(0, 1 - min(core, 1)))
        }
    }

    static func paint(_ g: Glioma, tissue: TissueMaps, grid: PhantomGrid,
                      rng: inout SeededRandom, into f: inout TumourFractions) throws {
        let shape = grid.shape, h = grid.spacing
        let reachMax = g.edemaReach * 1.3
        // box around core + edema (speed ≤ e^0.6 < 1.83 → euclidean ≤ 1.83 × geodesic)
        let marginMM = g.coreExtent + reachMax * 1.83 + 2 * h
        let m = Int((marginMM / h).rounded(.up))
        let c = g.centre
        let lo = SIMD3(max(0, Int(c.x) - m), max(0, Int(c.y) - m), max(0, Int(c.z) - m))
        let hi = SIMD3(min(shape.nx - 1, Int(c.x) + m), min(shape.ny - 1, Int(c.y) + m), min(shape.nz - 1, Int(c.z) + m))
        let box = Shape3(hi.x - lo.x + 1, hi.y - lo.y + 1, hi.z - lo.z + 1)
        let sp = SIMD3(h, h, h)
        // shape noise (n₁ surface, n₂ necrosis), edema reach (n₃) and speed (n₄), enhancement (n₅)
        let n1 = try SmoothNoise.field(shape: box, spacing: sp, controlSpacing: 10, rng: &rng)
        let n2 = try SmoothNoise.field(shape: box, spacing: sp, controlSpacing: 8, rng: &rng)
        let n3 = try SmoothNoise.field(shape: box, spacing: sp, controlSpacing: 12, rng: &rng)
        let n4 = try SmoothNoise.field(shape: box, spacing: sp, controlSpacing: 6, rng: &rng)
        let n5 = try SmoothNoise.field(shape: box, spacing: sp, controlSpacing: 7, rng: &rng)
        let rMean = (g.radii.x + g.radii.y + g.radii.z) / 3
        let r = g.rotation
        var coreF = [Float](repeating: 0, count: box.count)
        var necF = [Float](repeating: 0, count: box.count)
        var seeds = [UInt8](repeating: 0, count: box.count)
        var speed = [Float](repeating: 0, count: box.count)
        for z in 0..<box.nz {
            for y in 0..<box.ny {
                for x in 0..<box.nx {
                    let b = box.index(x, y, z)
                    let gi = shape.index(x + lo.x, y + lo.y, z + lo.z)
                    let d = (SIMD3(Double(x + lo.x), Double(y + lo.y), Double(z + lo.z)) - c) * h
                    // coordinates in the ellipsoid's frame: Rᵀ d / radii
                    let e = SIMD3(r[0] * d.x + r[3] * d.y + r[6] * d.z,
                                  r[1] * d.x + r[4] * d.y + r[7] * d.z,
                                  r[2] * d.x + r[5] * d.y + r[8] * d.z) / g.radii
                    let rho = (e * e).sum().squareRoot() + g.irregularity * Double(n1[b])
                    let mask = Double(tissue.mask[gi])
                    let core = ramp((1 - rho) * rMean / h) * mask
                    coreF[b] = Float(core)
                    if g.kind == .ring {
                        let nu = g.necrosisRatio + 0.08 * Double(n2[b])
                        necF[b] = Float(min(core, ramp((nu - rho) * rMean / h) * mask))
                    }
                    seeds[b] = core >= 0.5 ? 1 : 0
                    let tissueSpeed = 1.0 * Double(tissue.wm[gi]) + 0.15 * Double(tissue.gm[gi]) + 0.02 * Double(tissue.csf[gi])
                    speed[b] = tissue.brain[gi] != 0 ? Float(tissueSpeed * exp(0.4 * max(-1.5, min(1.5, Double(n4[b]))))) : 0
                }
            }
        }
        var geo = [Float](repeating: .infinity, count: box.count)
        let rc = speed.withUnsafeBufferPointer { s in
            seeds.withUnsafeBufferPointer { sd in
                geo.withUnsafeMutableBufferPointer { gd in
                    cmfk_geodesic_f32(s.baseAddress, sd.baseAddress, gd.baseAddress,
                                      Int64(box.nx), Int64(box.ny), Int64(box.nz), h, h, h, Float(reachMax + 2 * h))
                }
            }
        }
        guard rc == 0 else { throw CMFError.outOfMemory("phantom: cannot allocate the edema distance map") }
        for z in 0..<box.nz {
            for y in 0..<box.ny {
                for x in 0..<box.nx {
                    let b = box.index(x, y, z)
                    let gi = shape.index(x + lo.x, y + lo.y, z + lo.z)
                    let core = coreF[b], nec = necF[b]
                    // non-enhancing patches of the viable tumour: where n₅ < threshold
                    let patch = Float(min(1, max(0, (g.nonEnhancingThreshold - Double(n5[b])) / 0.3 + 0.5)))
                    switch g.kind {
                    case .ring:
                        f.ncr[gi] = max(f.ncr[gi], nec)
                        f.et[gi] = max(f.et[gi], (core - nec) * (1 - patch))
                        f.net[gi] = max(f.net[gi], (core - nec) * patch)
                    case .solid:
                        f.et[gi] = max(f.et[gi], core * (1 - patch))
                        f.net[gi] = max(f.net[gi], core * patch)
                    case .nonEnhancing:
                        f.net[gi] = max(f.net[gi], core)
                    }
                    guard geo[b].isFinite else { continue }
                    let reach = g.edemaReach * (1 + 0.3 * Double(max(-1, min(1, n3[b]))))
                    let parenchyma = Double(tissue.gm[gi] + tissue.wm[gi])
                    let ed = ramp((reach - Double(geo[b])) / h) * parenchyma * (1 - Double(core))
                    f.ed[gi] = max(f.ed[gi], Float(ed))
                }
            }
        }
    }

    /// Linear partial-volume ramp: signed distance inside a boundary (in voxels) → fraction.
    @inline(__always) static func ramp(_ v: Double) -> Double { min(1, max(0, v + 0.5)) }
}
