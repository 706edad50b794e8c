import CCMFKernels
import XCTest

/// The connected-component labeller (components.c) against its naive twin (breadth-first flood
/// fill) for 6-, 18- and 26-connectivity at 1 and 2 threads, and the dilation of dilate.c
/// against its naive twin (dilation by the L1 ball).
final class ComponentsTests: XCTestCase {
    func randomMask(_ n: Int, density: Double, seed: UInt64) -> [UInt8] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(s >> 11) / Double(1 << 53) < density ? 1 : 0
        }
    }

    /// Voxel count and box (x0, x1, y0, y1, z0, z1) of each label 1...count, from a labelling.
    func statsOf(_ labels: [Int32], _ nx: Int, _ ny: Int, _ nz: Int, count: Int) -> [Int64] {
        var st = [Int64](repeating: 0, count: 7 * count)
        for c in 0..<count { st[7 * c + 1] = .max; st[7 * c + 2] = -1; st[7 * c + 3] = .max; st[7 * c + 4] = -1; st[7 * c + 5] = .max; st[7 * c + 6] = -1 }
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            let l = Int(labels[x + nx * (y + ny * z)])
            guard l > 0 else { continue }
            let b = 7 * (l - 1)
            st[b] += 1
            for (d, v) in [Int64(x), Int64(y), Int64(z)].enumerated() {
                st[b + 1 + 2 * d] = min(st[b + 1 + 2 * d], v); st[b + 2 + 2 * d] = max(st[b + 2 + 2 * d], v)
            }
        } } }
        return st
    }

    /// Labels, count and stats of the optimised kernel equal the naive twin's (and the stats
    /// computed from its labels) at 1 and 2 threads; each output alone gives the same result.
    func checkAgainstNaive(_ mask: [UInt8], _ nx: Int, _ ny: Int, _ nz: Int, _ what: String) {
        let n = nx * ny * nz
        for conn in [6, 18, 26] {
            var want = [Int32](repeating: -1, count: n)
            let nWant = cmfk_components_u8_naive(mask, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &want)
            XCTAssertGreaterThanOrEqual(nWant, 0)
            let wantStats = statsOf(want, nx, ny, nz, count: Int(max(0, nWant)))
            for threads in [1, 2] {
                let tag = "\(what) \(nx)x\(ny)x\(nz) c=\(conn) threads=\(threads)"
                var got = [Int32](repeating: -1, count: n)
                let cap = max(1, n)
                var stats = [Int64](repeating: 7, count: 7 * cap)
                let found = cmfk_components_u8(mask, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &got, &stats, Int64(cap), Int32(threads))
                XCTAssertEqual(found, nWant, tag)
                XCTAssertEqual(got, want, tag)
                XCTAssertEqual(Array(stats[0..<wantStats.count]), wantStats, tag)
                // optional outputs: count only; stats only; labels only
                XCTAssertEqual(cmfk_components_u8(mask, Int64(nx), Int64(ny), Int64(nz), Int32(conn), nil, nil, 0, Int32(threads)), nWant, tag)
                var stats2 = [Int64](repeating: 7, count: 7 * cap)
                XCTAssertEqual(cmfk_components_u8(mask, Int64(nx), Int64(ny), Int64(nz), Int32(conn), nil, &stats2, Int64(cap), Int32(threads)), nWant, tag)
                XCTAssertEqual(stats2, stats, tag)
                var got2 = [Int32](repeating: -1, count: n)
                XCTAssertEqual(cmfk_components_u8(mask, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &got2, nil, 0, Int32(threads)), nWant, tag)
                XCTAssertEqual(got2, want, tag)
            }
        }
    }

    func testLabellingMatchesNaiveTwin() {
        // (64, 48, 32) and (90, 40, 30) are above the kernel's parallel threshold
        for (nx, ny, nz) in [(17, 13, 11), (1, 1, 40), (40, 1, 1), (1, 37, 1), (3, 1, 29), (64, 48, 32), (90, 40, 30)] {
            for density in [0.05, 0.3, 0.6, 0.9] {
                let n = nx * ny * nz
                let mask = randomMask(n, density: density, seed: UInt64(n) &+ UInt64(density * 100))
                checkAgainstNaive(mask, nx, ny, nz, "random p=\(density)")
            }
        }
    }

    func testMasksTouchingTheEdges() {
        for (nx, ny, nz) in [(9, 7, 5), (1, 6, 6), (70, 35, 30)] {
            let n = nx * ny * nz
            func onEdge(_ x: Int, _ y: Int, _ z: Int) -> Bool {
                x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1
            }
            var shell = [UInt8](repeating: 0, count: n), noisyShell = randomMask(n, density: 0.2, seed: 5)
            var parity = [UInt8](repeating: 0, count: n), corners = [UInt8](repeating: 0, count: n)
            for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
                let i = x + nx * (y + ny * z)
                if onEdge(x, y, z) { shell[i] = 1; noisyShell[i] = UInt8((x + 2 * y + 3 * z) % 3 == 0 ? 1 : 0) }
                parity[i] = UInt8((x + y + z) % 2)
                corners[i] = (x % 2 == 0 && y % 2 == 0 && z % 2 == 0) || (x % 2 == 1 && y % 2 == 1 && z % 2 == 1) ? 1 : 0
            } } }
            checkAgainstNaive(shell, nx, ny, nz, "shell")
            checkAgainstNaive(noisyShell, nx, ny, nz, "noisy shell")
            checkAgainstNaive(parity, nx, ny, nz, "parity")
            checkAgainstNaive(corners, nx, ny, nz, "corners")
            checkAgainstNaive([UInt8](repeating: 1, count: n), nx, ny, nz, "full")
            checkAgainstNaive([UInt8](repeating: 0, count: n), nx, ny, nz, "empty")
        }
    }

    func testHandCountedComponents() {
        // Two voxels touching at a corner: 2 components with 6/18-connectivity, 1 with 26.
        var mask = [UInt8](repeating: 0, count: 8)
        mask[0] = 1; mask[7] = 1
        var labels = [Int32](repeating: 0, count: 8)
        for (conn, expected) in [(6, 2), (18, 2), (26, 1)] {
            XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, Int32(conn), &labels, nil, 0, 1), Int64(expected))
        }
        // Two voxels sharing an edge: 2 components with 6, 1 with 18 and 26.
        mask = [1, 0, 0, 1, 0, 0, 0, 0]  // (0,0,0) and (1,1,0)
        for (conn, expected) in [(6, 2), (18, 1), (26, 1)] {
            XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, Int32(conn), &labels, nil, 0, 1), Int64(expected))
        }
        mask = [1, 0, 0, 0, 0, 1, 0, 0]  // (0,0,0) and (1,0,1)
        for (conn, expected) in [(6, 2), (18, 1), (26, 1)] {
            XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, Int32(conn), &labels, nil, 0, 1), Int64(expected))
        }
        // Numbering follows each component's first voxel in index order.
        mask = [0, 1, 1, 0, 1, 0, 0, 0]  // (1,0,0); (0,1,0); (0,0,1): pairwise edge neighbours
        XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, 6, &labels, nil, 0, 1), 3)
        XCTAssertEqual(labels, [0, 1, 2, 0, 3, 0, 0, 0])
        XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, 18, &labels, nil, 0, 1), 1)
        XCTAssertEqual(labels, [0, 1, 1, 0, 1, 0, 0, 0])
        // Bad arguments; stats capacity too small (labels still written).
        XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, 5, &labels, nil, 0, 1), -2)
        XCTAssertEqual(cmfk_components_u8(mask, 0, 2, 2, 6, &labels, nil, 0, 1), -2)
        XCTAssertEqual(cmfk_components_u8(nil, 2, 2, 2, 6, &labels, nil, 0, 1), -2)
        XCTAssertEqual(cmfk_components_u8_naive(mask, 2, 2, 2, 4, &labels), -2)
        var stats = [Int64](repeating: 0, count: 14)
        labels = [Int32](repeating: -1, count: 8)
        XCTAssertEqual(cmfk_components_u8(mask, 2, 2, 2, 6, &labels, &stats, 2, 1), -3)
        XCTAssertEqual(labels, [0, 1, 2, 0, 3, 0, 0, 0])
    }

    func testDilationMatchesNaiveTwinAcrossThreads() {
        let (nx, ny, nz) = (70, 40, 30)
        let n = nx * ny * nz
        let mask = randomMask(n, density: 0.01, seed: 9)
        for it in [0, 1, 2, 3] {
            var want = [UInt8](repeating: 9, count: n)
            XCTAssertEqual(cmfk_dilate_cross_u8_naive(mask, &want, Int64(nx), Int64(ny), Int64(nz), Int32(it)), 0)
            for threads in [1, 2] {
                var got = [UInt8](repeating: 9, count: n)
                XCTAssertEqual(cmfk_dilate_cross_u8(mask, &got, Int64(nx), Int64(ny), Int64(nz), Int32(it), Int32(threads)), 0)
                XCTAssertEqual(got, want, "iterations \(it), threads \(threads)")
            }
        }
        var out = [UInt8](repeating: 0, count: 1)
        XCTAssertEqual(cmfk_dilate_cross_u8([1], &out, 1, 1, 1, -1, 1), -2)
    }
}
