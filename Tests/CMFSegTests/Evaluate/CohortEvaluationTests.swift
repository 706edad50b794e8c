@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// The batch-mode pairing rule (documented on `CohortEvaluation`).
final class CohortEvaluationTests: XCTestCase {
    func testCaseNames() {
        let r = CohortEvaluation.referenceSuffixes, p = CohortEvaluation.predictionSuffixes
        XCTAssertEqual(CohortEvaluation.caseName("step0200_ref.nii.gz", suffixes: r, excluding: CohortEvaluation.predictionOnly), "step0200")
        XCTAssertNil(CohortEvaluation.caseName("step0200_pred.nii.gz", suffixes: r, excluding: CohortEvaluation.predictionOnly))
        XCTAssertEqual(CohortEvaluation.caseName("step0200_pred.nii.gz", suffixes: p, excluding: CohortEvaluation.referenceOnly), "step0200")
        XCTAssertNil(CohortEvaluation.caseName("step0200_ref.nii.gz", suffixes: p, excluding: CohortEvaluation.referenceOnly))
        XCTAssertEqual(CohortEvaluation.caseName("BraTS-GLI-00001-000-seg.nii.gz", suffixes: r, excluding: CohortEvaluation.predictionOnly), "BraTS-GLI-00001-000")
        XCTAssertEqual(CohortEvaluation.caseName("BraTS-GLI-00001-000.nii.gz", suffixes: p, excluding: CohortEvaluation.referenceOnly), "BraTS-GLI-00001-000")
        XCTAssertEqual(CohortEvaluation.caseName("Brats18_X_1_seg.nii", suffixes: r, excluding: CohortEvaluation.predictionOnly), "Brats18_X_1")
        XCTAssertNil(CohortEvaluation.caseName("notes.txt", suffixes: r, excluding: []))
        XCTAssertNil(CohortEvaluation.caseName(".hidden.nii.gz", suffixes: r, excluding: []))
        XCTAssertEqual(CohortEvaluation.caseName("_seg.nii.gz", suffixes: r, excluding: []), "_seg", "a bare suffix is a name")
    }

    func testPairingAndAmbiguity() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["a_ref.nii.gz", "a_pred.nii.gz", "b_ref.nii.gz", "b_pred.nii.gz", "c_pred.nii.gz", "readme.md"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(f).path, contents: Data())
        }
        let c = try CohortEvaluation(referenceDirectory: dir.path, predictionDirectory: dir.path)
        XCTAssertEqual(c.pairs.map(\.name), ["a", "b"])
        XCTAssertEqual(c.pairs[1].prediction, dir.appendingPathComponent("b_pred.nii.gz").path)
        XCTAssertEqual(c.skippedPredictions, [dir.appendingPathComponent("c_pred.nii.gz").path])
        FileManager.default.createFile(atPath: dir.appendingPathComponent("a.nii.gz").path, contents: Data())
        XCTAssertThrowsError(try CohortEvaluation(referenceDirectory: dir.path, predictionDirectory: dir.path)) {
            XCTAssertTrue("\($0)".contains("both name case a"), "\($0)")
        }
        XCTAssertThrowsError(try CohortEvaluation(referenceDirectory: dir.appendingPathComponent("missing").path,
                                                  predictionDirectory: dir.path))
    }
}
