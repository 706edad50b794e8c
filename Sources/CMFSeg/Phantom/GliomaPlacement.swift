import Glibc

/// Draws the gliomas of one phantom: how many (1, or 2 with the variant's chance: 0.3 for
/// the standard one), their kind, size and where they sit — in white or grey matter of the
/// cerebrum, well inside the brain.
enum GliomaPlacement {
    static func random(tissue: TissueMaps, grid: PhantomGrid, ranges: PhantomVariant.Ranges,
                       rng: inout SeededRandom) -> [Glioma] {
        let count = rng.chance(ranges.secondTumourChance) ? 2 : 1
        let shape = grid.shape
        // candidate centres: parenchyma (wm ≥ 0.5, or gm+wm ≥ 0.9 with some wm) above the
        // lower brain (gliomas are mostly supratentorial): z ≥ anchor − 10 mm.
        let zMin = grid.voxel(PhantomGrid.brainAnchorWorld - SIMD3(0, 0, 10)).z
        var candidates: [Int] = []
        for z in max(0, Int(zMin.rounded(.up)))..<shape.nz {
            for y in 0..<shape.ny {
                for x in 0..<shape.nx {
                    let i = shape.index(x, y, z)
                    guard tissue.brain[i] != 0 else { continue }
                    if tissue.wm[i] >= 0.5 || (tissue.gm[i] + tissue.wm[i] >= 0.9 && tissue.wm[i] >= 0.2) {
                        candidates.append(i)
                    }
                }
            }
        }
        var gliomas: [Glioma] = []
        for _ in 0..<count {
            let kind = Glioma.randomKind(&rng, ranges)
            let r = rng.uniform(ranges.radius)
            let radii = SIMD3(r * rng.uniform(0.75, 1.25), r * rng.uniform(0.75, 1.25), r * rng.uniform(0.75, 1.25))
            let rim = rng.uniform(2.5, 7)
            var g = Glioma(kind: kind, centre: .zero, radii: radii, rotation: Glioma.randomRotation(&rng),
                           necrosisRatio: max(0.25, 1 - rim / ((radii.x + radii.y + radii.z) / 3)),
                           edemaReach: rng.uniform(ranges.edemaReach), irregularity: rng.uniform(ranges.irregularity),
                           massEffect: rng.uniform(0.25, 0.45), nonEnhancingThreshold: rng.uniform(-1.6, -0.4))
            guard !candidates.isEmpty else { break }
            var best: (score: Double, centre: SIMD3<Double>) = (-1, .zero)
            for _ in 0..<40 {
                let i = candidates[Int(rng.unit() * Double(candidates.count)) % candidates.count]
                let c = SIMD3(Double(i % shape.nx), Double((i / shape.nx) % shape.ny), Double(i / (shape.nx * shape.ny)))
                // keep apart from earlier tumours
                if gliomas.contains(where: { distanceMM($0.centre, c, grid) < $0.coreExtent + g.coreExtent + 8 }) { continue }
                let s = insideFraction(centre: c, glioma: g, tissue: tissue, grid: grid)
                if s > best.score { best = (s, c) }
                if s >= 0.97 { break }
            }
            guard best.score >= 0 else { break }
            g.centre = best.centre
            gliomas.append(g)
        }
        return gliomas
    }

    static func distanceMM(_ a: SIMD3<Double>, _ b: SIMD3<Double>, _ grid: PhantomGrid) -> Double {
        let d = (a - b) * grid.spacing
        return (d * d).sum().squareRoot()
    }

    /// Fraction of 98 points on the core's surface (enlarged by 20 %) that fall in the brain.
    static func insideFraction(centre: SIMD3<Double>, glioma g: Glioma, tissue: TissueMaps, grid: PhantomGrid) -> Double {
        var inside = 0, total = 0
        let shape = grid.shape
        for a in 0..<7 {
            let theta = Double.pi * (Double(a) + 0.5) / 7
            for b in 0..<14 {
                let phi = 2 * Double.pi * Double(b) / 14
                let u = SIMD3(sin(theta) * cos(phi), sin(theta) * sin(phi), cos(theta)) * g.radii * 1.2
                let r = g.rotation
                let v = SIMD3(r[0] * u.x + r[1] * u.y + r[2] * u.z,
                              r[3] * u.x + r[4] * u.y + r[5] * u.z,
                              r[6] * u.x + r[7] * u.y + r[8] * u.z) / grid.spacing
                let p = (centre + v).rounded(.toNearestOrEven)
                total += 1
                guard p.x >= 0, p.y >= 0, p.z >= 0, Int(p.x) < shape.nx, Int(p.y) < shape.ny, Int(p.z) < shape.nz else { continue }
                if tissue.brain[shape.index(Int(p.x), Int(p.y), Int(p.z))] != 0 { inside += 1 }
            }
        }
        return Double(inside) / Double(total)
    }
}
