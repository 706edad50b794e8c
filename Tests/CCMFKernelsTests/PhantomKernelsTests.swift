import CCMFKernels
import XCTest

/// The phantom generator's kernels against their naive twins and analytic oracles.
final class PhantomKernelsTests: XCTestCase {
    /// A deterministic pseudo-random sequence for test inputs (LCG, no shared state).
    private func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    func testBSplineMatchesNaiveAndIsThreadIndependent() {
        // > 32768 voxels: the OpenMP loops really run in parallel with 2 threads
        let (nx, ny, nz) = (47, 39, 29)
        let (sx, sy, sz) = (5.5, 4.0, 3.3)
        let cx = Int(Double(nx - 1) / sx) + 4, cy = Int(Double(ny - 1) / sy) + 4, cz = Int(Double(nz - 1) / sz) + 4
        let coarse = values(cx * cy * cz, seed: 7)
        var fast1 = [Float](repeating: 0, count: nx * ny * nz), fast2 = fast1, naive = fast1
        XCTAssertEqual(cmfk_bspline_upsample_f32(coarse, Int64(cx), Int64(cy), Int64(cz), &fast1, Int64(nx), Int64(ny), Int64(nz), sx, sy, sz, 1), 0)
        XCTAssertEqual(cmfk_bspline_upsample_f32(coarse, Int64(cx), Int64(cy), Int64(cz), &fast2, Int64(nx), Int64(ny), Int64(nz), sx, sy, sz, 2), 0)
        XCTAssertEqual(cmfk_bspline_upsample_f32_naive(coarse, Int64(cx), Int64(cy), Int64(cz), &naive, Int64(nx), Int64(ny), Int64(nz), sx, sy, sz), 0)
        XCTAssertEqual(fast1, fast2)
        let worst = zip(fast1, naive).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5, "largest difference to the naive sum \(worst)")
    }

    func testBSplineRefusesTooSmallLattice() {
        var out = [Float](repeating: 0, count: 10 * 10 * 10)
        let coarse = [Float](repeating: 1, count: 4 * 4 * 4)
        XCTAssertEqual(cmfk_bspline_upsample_f32(coarse, 4, 4, 4, &out, 10, 10, 10, 2, 2, 2, 1), -1)
        // a lattice of ones interpolates to exactly one (B-spline partition of unity)
        XCTAssertEqual(cmfk_bspline_upsample_f32(coarse, 4, 4, 4, &out, 10, 10, 10, 10, 10, 10, 1), 0)
        XCTAssertLessThan(out.map { abs($0 - 1) }.max() ?? 1, 1e-6)
    }

    /// Trilinear interpolation reproduces an affine function exactly: the oracle.
    func testWarpReproducesLinearFunctions() {
        let (sx, sy, sz) = (48, 44, 40)
        var src = [Float](repeating: 0, count: 2 * sx * sy * sz)
        for z in 0..<sz { for y in 0..<sy { for x in 0..<sx {
            let i = x + sx * (y + sy * z)
            src[2 * i] = Float(2 * x - 3 * y + 5 * z + 1)
            src[2 * i + 1] = 7
        } } }
        // a rotation-ish map that stays inside the source grid for the output box
        let m: [Double] = [0.9, 0.1, 0.05, 2.3, -0.08, 0.95, 0.1, 4.5, 0.02, -0.05, 0.92, 2.7]
        let (nx, ny, nz) = (40, 36, 33)  // > 32768 voxels: parallel with 2 threads
        let n = nx * ny * nz
        let d = values(3 * n, seed: 3).map { $0 * 0.7 }
        let dx = Array(d[0..<n]), dy = Array(d[n..<2 * n]), dz = Array(d[2 * n..<3 * n])
        var previous: [Float] = []
        for threads: Int32 in [1, 2] {
            var out = [Float](repeating: -1, count: 2 * n)
            out.withUnsafeMutableBufferPointer { o in
                let outs: [UnsafeMutablePointer<Float>?] = [o.baseAddress, o.baseAddress! + n]
                cmfk_warp_trilinear_f32(src, Int64(sx), Int64(sy), Int64(sz), 2, nil, m, dx, dy, dz, outs, Int64(nx), Int64(ny), Int64(nz), threads)
            }
            var worst: Double = 0
            for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
                let o = x + nx * (y + ny * z)
                let p = (Double(x) + Double(dx[o]), Double(y) + Double(dy[o]), Double(z) + Double(dz[o]))
                let q = (m[0] * p.0 + m[1] * p.1 + m[2] * p.2 + m[3],
                         m[4] * p.0 + m[5] * p.1 + m[6] * p.2 + m[7],
                         m[8] * p.0 + m[9] * p.1 + m[10] * p.2 + m[11])
                worst = max(worst, abs(Double(out[o]) - (2 * q.0 - 3 * q.1 + 5 * q.2 + 1)))
                worst = max(worst, abs(Double(out[n + o]) - 7))
            } } }
            XCTAssertLessThan(worst, 1e-4, "threads \(threads): largest error \(worst)")
            if !previous.isEmpty { XCTAssertEqual(previous, out, "1 and 2 threads differ") }
            previous = out
        }
        // far outside: zero
        var o0: Float = -1, o1: Float = -1
        let shift: [Double] = [1, 0, 0, 1000, 0, 1, 0, 0, 0, 0, 1, 0]
        withUnsafeMutablePointer(to: &o0) { p0 in
            withUnsafeMutablePointer(to: &o1) { p1 in
                let outs: [UnsafeMutablePointer<Float>?] = [p0, p1]
                cmfk_warp_trilinear_f32(src, Int64(sx), Int64(sy), Int64(sz), 2, nil, shift, nil, nil, nil, outs, 1, 1, 1, 1)
            }
        }
        XCTAssertEqual([o0, o1], [0, 0])
    }

    /// The data box only skips work: zero data outside it gives the same output with and without.
    func testWarpDataBoxSkipsOnlyZeros() {
        let (sx, sy, sz) = (16, 14, 12)
        var src = [Float](repeating: 0, count: sx * sy * sz)
        let box: [Int64] = [3, 4, 2, 11, 9, 8]
        for z in 2...8 { for y in 4...9 { for x in 3...11 { src[x + sx * (y + sy * z)] = Float(1 + x * y + z) } } }
        let m: [Double] = [0.8, 0.1, 0, -1.5, -0.1, 0.9, 0.05, -0.7, 0, 0.02, 0.85, -1.1]
        let (nx, ny, nz) = (22, 19, 17)
        var a = [Float](repeating: -1, count: nx * ny * nz), b = a
        a.withUnsafeMutableBufferPointer { p in
            let outs: [UnsafeMutablePointer<Float>?] = [p.baseAddress]
            cmfk_warp_trilinear_f32(src, Int64(sx), Int64(sy), Int64(sz), 1, nil, m, nil, nil, nil, outs, Int64(nx), Int64(ny), Int64(nz), 1)
        }
        b.withUnsafeMutableBufferPointer { p in
            let outs: [UnsafeMutablePointer<Float>?] = [p.baseAddress]
            cmfk_warp_trilinear_f32(src, Int64(sx), Int64(sy), Int64(sz), 1, box, m, nil, nil, nil, outs, Int64(nx), Int64(ny), Int64(nz), 2)
        }
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(a.filter { $0 > 0 }.count, 100)
        XCTAssertGreaterThan(a.filter { $0 == 0 }.count, 100)
    }

    func testGeodesicMatchesBellmanFord() {
        let (nx, ny, nz) = (17, 15, 13)
        let n = nx * ny * nz
        let speed = values(n, seed: 11).map { max(0, $0 + 0.6) }  // some zeros: walls
        var seeds = [UInt8](repeating: 0, count: n)
        seeds[8 + nx * (7 + ny * 6)] = 1
        seeds[2 + nx * (3 + ny * 2)] = 1
        var fast = [Float](repeating: 0, count: n), naive = fast
        XCTAssertEqual(cmfk_geodesic_f32(speed, seeds, &fast, Int64(nx), Int64(ny), Int64(nz), 1.0, 1.5, 2.0, 1e30), 0)
        XCTAssertEqual(cmfk_geodesic_f32_naive(speed, seeds, &naive, Int64(nx), Int64(ny), Int64(nz), 1.0, 1.5, 2.0), 0)
        var worst: Float = 0, finite = 0
        for i in 0..<n {
            XCTAssertEqual(fast[i].isFinite, naive[i].isFinite, "voxel \(i)")
            if fast[i].isFinite && naive[i].isFinite { worst = max(worst, abs(fast[i] - naive[i]) / max(1, naive[i])); finite += 1 }
        }
        XCTAssertGreaterThan(finite, n / 2)
        XCTAssertLessThan(worst, 1e-5)
        // the cut-off: beyond max_dist → infinity, within → the same distances
        var cut = [Float](repeating: 0, count: n)
        XCTAssertEqual(cmfk_geodesic_f32(speed, seeds, &cut, Int64(nx), Int64(ny), Int64(nz), 1.0, 1.5, 2.0, 6), 0)
        for i in 0..<n {
            if naive[i] <= 5.99 { XCTAssertEqual(cut[i], fast[i]) }
            if naive[i] > 6.01 { XCTAssertEqual(cut[i], .infinity) }
        }
    }

    func testGeodesicOnUniformSpeedIsChamferDistance() {
        // speed 1 everywhere, one seed: along an axis the distance is exactly the length
        let (nx, ny, nz) = (9, 9, 9)
        var seeds = [UInt8](repeating: 0, count: 729)
        seeds[0] = 1
        var d = [Float](repeating: 0, count: 729)
        let speed = [Float](repeating: 1, count: 729)
        XCTAssertEqual(cmfk_geodesic_f32(speed, seeds, &d, Int64(nx), Int64(ny), Int64(nz), 1, 1, 1, 100), 0)
        XCTAssertEqual(d[8], 8, accuracy: 1e-5)
        XCTAssertEqual(d[8 + 9 * 8 + 81 * 8], Float(8 * 3.0.squareRoot()), accuracy: 1e-4)
    }

    func testRicianNoiseIsCounterBasedAndHasRicianStatistics() {
        let n = 200_000
        var a = [Float](repeating: 0, count: n), b = a
        cmfk_rician_noise_f32(&a, nil, Int64(n), 2, 42, 1)
        cmfk_rician_noise_f32(&b, nil, Int64(n), 2, 42, 2)
        XCTAssertEqual(a, b)
        // zero signal: Rayleigh with mean σ√(π/2) and E[x²] = 2σ²
        let mean = a.reduce(0.0) { $0 + Double($1) } / Double(n)
        let sq = a.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        XCTAssertEqual(mean, 2 * (Double.pi / 2).squareRoot(), accuracy: 0.02)
        XCTAssertEqual(sq, 8, accuracy: 0.1)
        // high signal: ≈ Gaussian around the signal; mask leaves other voxels alone
        var c = [Float](repeating: 100, count: n)
        var mask = [UInt8](repeating: 1, count: n)
        mask[5] = 0
        cmfk_rician_noise_f32(&c, mask, Int64(n), 2, 43, 2)
        XCTAssertEqual(c[5], 100)
        let m2 = c.reduce(0.0) { $0 + Double($1) } / Double(n)
        XCTAssertEqual(m2, 100.02, accuracy: 0.03)
        var g1: Float = 0, g2: Float = 0
        cmfk_counter_gaussian_pair(42, 7, &g1, &g2)
        XCTAssertEqual(a[7], 2 * (g1 * g1 + g2 * g2).squareRoot(), accuracy: 1e-5)
    }
}
