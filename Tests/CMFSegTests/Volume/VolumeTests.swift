@testable import CMFSeg
import XCTest

final class VolumeTests: XCTestCase {
    func testIndexIsXFastest() {
        let s = Shape3(4, 3, 2)
        XCTAssertEqual(s.index(1, 0, 0), 1)
        XCTAssertEqual(s.index(0, 1, 0), 4)
        XCTAssertEqual(s.index(0, 0, 1), 12)
        XCTAssertEqual(s.count, 24)
    }

    func testAffinePrefersSformThenQform() {
        var g = Geometry(spacing: SIMD3(2, 2, 3))
        XCTAssertEqual(g.affine[0], 2)
        g.sformCode = 1
        g.sform[3] = -90
        XCTAssertEqual(g.affine[3], -90)
        XCTAssertFalse(g.matches(Geometry(spacing: SIMD3(2, 2, 3))))
    }
}
