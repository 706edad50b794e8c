import CCMFKernels
import XCTest

/// Each optimised evaluation kernel against its `_naive` twin, on random masks of several
/// shapes and densities, with 1 and 2 threads and anisotropic spacing.
final class EvaluationKernelTests: XCTestCase {
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func unit() -> Double { Double(next() % 1_000_000) / 1_000_000 }
    }

    /// Blobby random masks: thresholded sums of a few random boxes plus salt noise.
    static func randomMask(_ nx: Int, _ ny: Int, _ nz: Int, density: Double, rng: inout RNG) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: nx * ny * nz)
        for _ in 0..<4 {
            let x0 = Int(rng.next() % UInt64(nx)), y0 = Int(rng.next() % UInt64(ny)), z0 = Int(rng.next() % UInt64(nz))
            let w = 1 + Int(rng.next() % UInt64(max(1, nx / 2))), h = 1 + Int(rng.next() % UInt64(max(1, ny / 2)))
            let d = 1 + Int(rng.next() % UInt64(max(1, nz / 2)))
            for z in z0..<min(nz, z0 + d) { for y in y0..<min(ny, y0 + h) { for x in x0..<min(nx, x0 + w) {
                m[x + nx * (y + ny * z)] = 1
            } } }
        }
        for i in m.indices where rng.unit() < density { m[i] ^= 1 }
        return m
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 1, 1), (1, 9, 3), (13, 11, 9), (24, 17, 20), (40, 33, 21)]
    static let spacings: [[Double]] = [[1, 1, 1], [1.2, 0.9, 2.5], [0.7, 3.1, 1.0]]

    func testBorderMatchesNaive() {
        var rng = RNG(state: 1)
        for (nx, ny, nz) in Self.shapes {
            for density in [0.0, 0.05, 0.5] {
                let m = Self.randomMask(nx, ny, nz, density: density, rng: &rng)
                var want = [UInt8](repeating: 9, count: m.count)
                let nWant = cmfk_border_u8_naive(m, Int64(nx), Int64(ny), Int64(nz), &want)
                for threads: Int32 in [1, 2] {
                    var got = [UInt8](repeating: 7, count: m.count)
                    let n = cmfk_border_u8(m, Int64(nx), Int64(ny), Int64(nz), &got, threads)
                    XCTAssertEqual(got, want, "\(nx)x\(ny)x\(nz) density \(density) threads \(threads)")
                    XCTAssertEqual(n, nWant)
                }
            }
        }
    }

    func testEDTMatchesBruteForceBitForBit() {
        var rng = RNG(state: 2)
        for (nx, ny, nz) in Self.shapes {
            for sp in Self.spacings {
                for density in [0.0, 0.002, 0.05] {
                    var f = Self.randomMask(nx, ny, nz, density: density, rng: &rng)
                    if density == 0 { f = f.map { _ in 0 }; if f.count > 3 { f[f.count / 2] = 1 } }
                    var want = [Double](repeating: -1, count: f.count)
                    XCTAssertEqual(cmfk_edt_sq_f64_naive(f, Int64(nx), Int64(ny), Int64(nz), sp, &want), 0)
                    for threads: Int32 in [1, 2] {
                        var got = [Double](repeating: -1, count: f.count)
                        XCTAssertEqual(cmfk_edt_sq_f64(f, Int64(nx), Int64(ny), Int64(nz), sp, &got, threads), 0)
                        var worst = 0.0
                        for i in f.indices {
                            if want[i].isInfinite { XCTAssertTrue(got[i].isInfinite); continue }
                            worst = max(worst, abs(got[i] - want[i]) / max(1, want[i]))
                        }
                        // Isotropic integer grids are exact; otherwise ties may round differently.
                        let tol = sp == [1, 1, 1] ? 0 : 1e-14
                        XCTAssertLessThanOrEqual(worst, tol, "\(nx)x\(ny)x\(nz) spacing \(sp) threads \(threads): largest relative difference \(worst)")
                    }
                }
            }
        }
    }

    func testEDTAtQueriesMatchesBruteForce() {
        var rng = RNG(state: 6)
        for (nx, ny, nz) in Self.shapes {
            for sp in Self.spacings {
                for (fd, qd) in [(0.002, 0.05), (0.05, 0.002), (0.0, 0.1), (0.3, 0.3)] {
                    let f = Self.randomMask(nx, ny, nz, density: fd, rng: &rng)
                    let q = Self.randomMask(nx, ny, nz, density: qd, rng: &rng)
                    let nq = q.reduce(0) { $0 + Int($1) }
                    var want = [Double](repeating: -1, count: nq + 1)
                    XCTAssertEqual(cmfk_edt_sq_at_f64_naive(f, q, Int64(nx), Int64(ny), Int64(nz), sp, &want), Int64(nq))
                    for threads: Int32 in [1, 2] {
                        var got = [Double](repeating: -1, count: nq + 1)
                        XCTAssertEqual(cmfk_edt_sq_at_f64(f, q, Int64(nx), Int64(ny), Int64(nz), sp, &got, threads), Int64(nq))
                        var worst = 0.0
                        for i in 0..<nq {
                            if want[i].isInfinite { XCTAssertEqual(got[i], want[i]); continue }
                            worst = max(worst, abs(got[i] - want[i]) / max(1, want[i]))
                        }
                        let tol = sp == [1, 1, 1] ? 0 : 1e-14
                        XCTAssertLessThanOrEqual(worst, tol, "\(nx)x\(ny)x\(nz) spacing \(sp) threads \(threads)")
                    }
                }
            }
        }
    }

    func testEDTWithoutFeaturesIsInfinite() {
        let f = [UInt8](repeating: 0, count: 60)
        var out = [Double](repeating: 0, count: 60)
        XCTAssertEqual(cmfk_edt_sq_f64(f, 5, 4, 3, [1, 1, 1], &out, 2), 0)
        XCTAssertTrue(out.allSatisfy { $0 == .infinity })
    }

    func testConnectedComponentsMatchFloodFill() {
        var rng = RNG(state: 3)
        for (nx, ny, nz) in Self.shapes {
            for density in [0.0, 0.1, 0.3, 0.6] {
                let m = Self.randomMask(nx, ny, nz, density: density, rng: &rng)
                for conn in [6, 18, 26] {
                    var want = [Int32](repeating: -1, count: m.count)
                    let nWant = cmfk_components_u8_naive(m, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &want)
                    for threads in [1, 2] {
                        let tag = "\(nx)x\(ny)x\(nz) density \(density) connectivity \(conn) threads \(threads)"
                        var got = [Int32](repeating: -1, count: m.count)
                        let cap = max(1, m.count)
                        var stats = [Int64](repeating: 0, count: 7 * cap)
                        let n = cmfk_components_u8(m, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &got, &stats,
                                                   Int64(cap), Int32(threads))
                        XCTAssertEqual(n, nWant, tag)
                        XCTAssertEqual(got, want, tag)
                        // stats: counts and boxes from the naive labels
                        for c in 0..<Int(max(0, n)) {
                            var count: Int64 = 0
                            var box: [Int64] = [Int64.max, -1, Int64.max, -1, Int64.max, -1]
                            for z in 0..<nz { for y in 0..<ny { for x in 0..<nx where want[x + nx * (y + ny * z)] == Int32(c + 1) {
                                count += 1
                                for (d, v) in [Int64(x), Int64(y), Int64(z)].enumerated() {
                                    box[2 * d] = min(box[2 * d], v); box[2 * d + 1] = max(box[2 * d + 1], v)
                                }
                            } } }
                            XCTAssertEqual(Array(stats[(7 * c)..<(7 * c + 7)]), [count] + box, tag)
                        }
                    }
                }
            }
        }
    }

    func testConnectivityIs26() {
        // two voxels touching only at a corner are one component; a gap of one voxel splits
        var m = [UInt8](repeating: 0, count: 27)
        m[0] = 1; m[13] = 1  // (0,0,0) and (1,1,1)
        var l = [Int32](repeating: 0, count: 27)
        XCTAssertEqual(cmfk_components_u8(m, 3, 3, 3, 26, &l, nil, 0, 1), 1)
        m[13] = 0; m[26] = 1  // (0,0,0) and (2,2,2)
        XCTAssertEqual(cmfk_components_u8(m, 3, 3, 3, 26, &l, nil, 0, 1), 2)
    }

    func testLabelStatsMatchNaive() {
        var rng = RNG(state: 4)
        var lut = [UInt8](repeating: 0xFF, count: 256)
        lut[0] = 0; lut[1] = 0b011; lut[2] = 0b001; lut[4] = 0b111
        let values: [UInt8] = [0, 0, 0, 0, 0, 1, 2, 4]
        for (nx, ny, nz) in Self.shapes + [(67, 45, 30)] {
            for withBad in [false, true] {
                var ref = (0..<(nx * ny * nz)).map { _ in values[Int(rng.next() % 8)] }
                var pred = (0..<(nx * ny * nz)).map { _ in rng.unit() < 0.7 ? 0 : values[Int(rng.next() % 8)] }
                if withBad { ref[ref.count / 2] = 3; pred[pred.count - 1] = 200; pred[pred.count / 3] = 5 }
                var cw = [Int64](repeating: 0, count: 9), bw = [Int64](repeating: 0, count: 18), badw: [Int64] = [0, 0]
                cmfk_label_stats_u8_naive(ref, pred, Int64(nx), Int64(ny), Int64(nz), lut, 3, &cw, &bw, &badw)
                for threads: Int32 in [1, 2] {
                    var c = [Int64](repeating: 0, count: 9), b = [Int64](repeating: 0, count: 18), bad: [Int64] = [0, 0]
                    cmfk_label_stats_u8(ref, pred, Int64(nx), Int64(ny), Int64(nz), lut, 3, &c, &b, &bad, threads)
                    XCTAssertEqual(c, cw); XCTAssertEqual(b, bw); XCTAssertEqual(bad, badw)
                }
            }
        }
    }

    func testOverlapPairsAndSelect() {
        let a: [Int32] = [0, 1, 1, 2, 2, 2, 3, 0]
        let b: [Int32] = [5, 1, 2, 2, 2, 0, 7, 7]
        var pairs = [Int64](repeating: 0, count: 3 * 8)
        XCTAssertEqual(cmfk_overlap_pairs_i32(a, b, 8, &pairs, 8), 4)
        XCTAssertEqual(Array(pairs[0..<12]), [1, 1, 1, 1, 2, 1, 2, 2, 2, 3, 7, 1])
        XCTAssertEqual(cmfk_overlap_pairs_i32(a, b, 8, &pairs, 3), -2)
        var rng = RNG(state: 5)
        for n in [1, 2, 3, 10, 101, 1000] {
            let v = (0..<n).map { _ in Double(rng.next() % 17) }
            let sorted = v.sorted()
            for k in Set([0, n / 2, n - 1, (n * 95) / 100]) {
                var w = v
                XCTAssertEqual(cmfk_select_f64(&w, Int64(n), Int64(k)), sorted[k])
                XCTAssertTrue(w[..<k].allSatisfy { $0 <= sorted[k] } && w[(k + 1)...].allSatisfy { $0 >= sorted[k] })
            }
        }
    }
}
