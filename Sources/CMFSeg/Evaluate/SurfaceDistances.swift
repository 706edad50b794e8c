import CCMFKernels

/// Directed surface distances between two non-empty masks on one small grid (a crop), and
/// the statistics MedPy and panoptica derive from them.
///
/// Border voxels are found with `cmfk_border_u8` (grid-edge voxels count as border, so a
/// crop must keep one background voxel around the masks wherever the image continues);
/// squared distances come from the exact EDT evaluated at the border voxels (`cmfk_edt_sq_at_f64`) and are square-rooted only
/// where a value is reported, so every distance is the double sqrt of the exact
/// sum of `((delta * spacing)^2)` terms, as scipy computes it.
struct SurfaceDistances {
    /// Squared distances (mm²) from each border voxel of A to the nearest border voxel of B,
    /// in index order; then from B to A.
    var aToB: [Double]
    var bToA: [Double]

    /// - Parameters:
    ///   - a, b: 0/1 masks of `shape.count` voxels, both non-empty.
    /// - Throws: `CMFError.outOfMemory` when the kernels' scratch memory fails.
    init(a: UnsafeBufferPointer<UInt8>, b: UnsafeBufferPointer<UInt8>, shape: Shape3,
         spacing: SIMD3<Double>, threads: Int) throws {
        let n = shape.count
        let nx = Int64(shape.nx), ny = Int64(shape.ny), nz = Int64(shape.nz)
        var sp = [spacing.x, spacing.y, spacing.z]
        var borderA = [UInt8](repeating: 0, count: n)
        var borderB = [UInt8](repeating: 0, count: n)
        let t = Int32(clamping: threads)
        let countA = Int(cmfk_border_u8(a.baseAddress, nx, ny, nz, &borderA, t))
        let countB = Int(cmfk_border_u8(b.baseAddress, nx, ny, nz, &borderB, t))
        func directed(from: [UInt8], count: Int, to: [UInt8]) throws -> [Double] {
            var failed = false
            let values = [Double](unsafeUninitializedCapacity: count) { buf, written in
                let k = cmfk_edt_sq_at_f64(to, from, nx, ny, nz, &sp, buf.baseAddress, t)
                failed = k != Int64(count)
                written = failed ? 0 : count
            }
            guard !failed else {
                throw CMFError.outOfMemory("distance transform of a \(shape) crop: out of memory")
            }
            return values
        }
        aToB = try directed(from: borderA, count: countA, to: borderB)
        bToA = try directed(from: borderB, count: countB, to: borderA)
    }

    /// The 95th percentile of the pooled distances with numpy's default ("linear") method:
    /// virtual index h = (n - 1) * 0.95, then numpy's `_lerp` between the neighbours.
    var hd95: Double { percentile(0.95) }

    func percentile(_ q: Double) -> Double {
        var pooled = aToB + bToA
        let n = pooled.count
        let h = Double(n - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, n - 1)
        let gamma = h - Double(lo)
        let (vLo, vHi): (Double, Double) = pooled.withUnsafeMutableBufferPointer { p in
            let a = cmfk_select_f64(p.baseAddress, Int64(n), Int64(lo))
            var b = a
            if hi > lo {
                b = Double.infinity
                for i in (lo + 1)..<n where p[i] < b { b = p[i] }
            }
            return (a, b)
        }
        return Percentile.lerp(vLo.squareRoot(), vHi.squareRoot(), gamma)
    }

    /// Largest distance (Hausdorff).
    var hd: Double { max(aToB.max() ?? 0, bToA.max() ?? 0).squareRoot() }

    /// Average symmetric surface distance as MedPy 0.5.2 computes it: the mean of the pooled
    /// distances of both directions (panoptica's ASSD, the mean of the two directed means,
    /// differs when the two borders have different sizes).
    var assd: Double { Self.meanDistance(aToB + bToA) }

    /// panoptica's normalised surface Dice (GaNDLF form) at `tolerance` mm, with A the
    /// reference and B the prediction; panoptica's "a_to_b" are the reference-to-prediction
    /// distances (our `aToB`), and the order of operations is the same.
    func nsd(tolerance: Double) -> Double {
        let inA = aToB.reduce(0) { $0 + ($1.squareRoot() <= tolerance ? 1 : 0) }
        let inB = bToA.reduce(0) { $0 + ($1.squareRoot() <= tolerance ? 1 : 0) }
        let na = Double(aToB.count), nb = Double(bToA.count)
        let tpA = Double(inA) / na, tpB = Double(inB) / nb
        let fp = Double(aToB.count - inA) / na, fn = Double(bToA.count - inB) / nb
        return (tpA + tpB) / (tpA + tpB + fp + fn + Double.leastNormalMagnitude)
    }

    /// Mean of the square roots, summed with Neumaier's compensation (numpy sums pairwise;
    /// both are within a few ulps of the exact mean).
    static func meanDistance(_ squared: [Double]) -> Double {
        var sum = 0.0, c = 0.0
        for v in squared {
            let x = v.squareRoot()
            let t = sum + x
            if abs(sum) >= abs(x) { c += (sum - t) + x } else { c += (x - t) + sum }
            sum = t
        }
        return (sum + c) / Double(squared.count)
    }
}
