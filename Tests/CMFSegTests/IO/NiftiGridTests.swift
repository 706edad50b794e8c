@testable import CMFSeg
import TestSupport
import XCTest

final class NiftiGridTests: XCTestCase {
    func testSameGridPasses() throws {
        let g = Geometry(spacing: SIMD3(1, 1, 1))
        try Nifti.requireSameGrid([("t1", Shape3(4, 4, 4), g), ("t1ce", Shape3(4, 4, 4), g),
                                   ("t2", Shape3(4, 4, 4), g), ("flair", Shape3(4, 4, 4), g)])
        try Nifti.requireSameGrid([])
        try Nifti.requireSameGrid([("only", Shape3(1, 1, 1), g)])
        // Real files on one grid: a BraTS reference and prediction.
        let a = try Nifti.readHeader(Fixtures.path("brats-labels/step0200_ref.nii.gz"))
        let b = try Nifti.readHeader(Fixtures.path("brats-labels/step0200_pred.nii.gz"))
        try Nifti.requireSameGrid([("ref", a.shape, a.geometry), ("pred", b.shape, b.geometry)])
    }

    func testDifferentDimsNameBothItems() {
        let g = Geometry()
        XCTAssertThrowsError(try Nifti.requireSameGrid([("t1", Shape3(4, 4, 4), g), ("t2", Shape3(4, 4, 4), g),
                                                        ("flair", Shape3(4, 4, 5), g)])) { e in
            guard case CMFError.shape(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("t1") && m.contains("flair") && m.contains("4×4×5"), m)
        }
    }

    func testDifferentSpacingOrAffine() {
        let g = Geometry(spacing: SIMD3(1, 1, 1))
        XCTAssertThrowsError(try Nifti.requireSameGrid([("ref", Shape3(2, 2, 2), g),
                                                        ("pred", Shape3(2, 2, 2), Geometry(spacing: SIMD3(1, 1, 2)))])) { e in
            guard case CMFError.shape(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("ref") && m.contains("pred") && m.contains("spacing"), m)
        }
        var shifted = g
        shifted.qform[3] = 5
        XCTAssertThrowsError(try Nifti.requireSameGrid([("ref", Shape3(2, 2, 2), g), ("pred", Shape3(2, 2, 2), shifted)])) { e in
            guard case CMFError.shape(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("affines differ by up to 5 mm"), m)
        }
        // Within tolerance (float32 rounding of a header) is the same grid.
        var close = g
        close.qform[3] = 1e-6
        XCTAssertNoThrow(try Nifti.requireSameGrid([("a", Shape3(2, 2, 2), g), ("b", Shape3(2, 2, 2), close)]))
    }
}
