import CCMFKernels
import XCTest

/// cmf_components.c against its naive twins (BFS flood fill; dilation by the L1 ball).
final class ComponentsTests: XCTestCase {
    func randomMask(_ n: Int, density: Double, seed: UInt64) -> [UInt8] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(s >> 11) / Double(1 << 53) < density ? 1 : 0
        }
    }

    func testLabellingMatchesNaiveTwin() {
        for (nx, ny, nz) in [(17, 13, 11), (1, 1, 40), (64, 48, 32)] {
            for density in [0.05, 0.3, 0.6] {
                let n = nx * ny * nz
                let mask = randomMask(n, density: density, seed: UInt64(n) &+ UInt64(density * 100))
                for conn in [6, 18, 26] {
                    var a = [Int32](repeating: -1, count: n), b = [Int32](repeating: -1, count: n)
                    var ca: Int64 = 0, cb: Int64 = 0
                    XCTAssertEqual(cmfk_components_u8(mask, &a, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &ca), 0)
                    XCTAssertEqual(cmfk_components_u8_naive(mask, &b, Int64(nx), Int64(ny), Int64(nz), Int32(conn), &cb), 0)
                    XCTAssertEqual(ca, cb, "\(nx)x\(ny)x\(nz) p=\(density) c=\(conn)")
                    XCTAssertEqual(a, b, "\(nx)x\(ny)x\(nz) p=\(density) c=\(conn)")
                }
            }
        }
    }

    func testHandCountedComponents() {
        // Two voxels touching at a corner: 2 components with 6/18-connectivity, 1 with 26.
        var mask = [UInt8](repeating: 0, count: 8)
        mask[0] = 1; mask[7] = 1
        var labels = [Int32](repeating: 0, count: 8)
        var count: Int64 = 0
        for (conn, expected) in [(6, 2), (18, 2), (26, 1)] {
            XCTAssertEqual(cmfk_components_u8(mask, &labels, 2, 2, 2, Int32(conn), &count), 0)
            XCTAssertEqual(count, Int64(expected))
        }
        XCTAssertEqual(cmfk_components_u8(mask, &labels, 2, 2, 2, 5, &count), -2)
        XCTAssertEqual(cmfk_components_u8(mask, &labels, 0, 2, 2, 6, &count), -2)
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
