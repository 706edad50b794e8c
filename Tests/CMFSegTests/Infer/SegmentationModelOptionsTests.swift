@testable import CMFSeg
import TestSupport
import XCTest

/// Model metadata → pipeline options (patch, class values, normalisation), and the default model.
final class SegmentationModelOptionsTests: XCTestCase {
    func model(metadata: [String: String]) throws -> SegmentationModel {
        var set = try WeightSet.load(paths: SyntheticCase.m2gWeights)
        for (k, v) in metadata { set.metadata[k] = v }
        return try SegmentationModel(network: Network.load(set))
    }

    func testRawExportGetsTheAuthorsDefaults() throws {
        let o = try SegmentationOptions(for: model(metadata: [:]))
        XCTAssertEqual(o.window.patch, Shape3(128, 128, 128))
        XCTAssertEqual(o.classValues, [0, 2, 1, 4])
        XCTAssertEqual(o.preprocess.normalization, .authors)
        XCTAssertEqual(o.window.overlap, 0.5)
        XCTAssertFalse(o.window.mirroring)
        XCTAssertNotNil(o.postProcess)
    }

    func testMetadataSetsPatchClassValuesAndNormalisation() throws {
        let o = try SegmentationOptions(for: model(metadata: ["patch": "96,112,128", "class_values": "0,2,1,3",
                                                              "normalization": "zscore-nonzero-p2-98-nzstd"]))
        XCTAssertEqual(o.window.patch, Shape3(128, 112, 96))
        XCTAssertEqual(o.classValues, [0, 2, 1, 3])
        XCTAssertEqual(o.preprocess.normalization, .nonZeroStd)
        XCTAssertThrowsError(try SegmentationOptions(for: model(metadata: ["normalization": "minmax"]))) { error in
            guard case CMFError.unsupported(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("minmax"), m)
        }
    }

    func testNoDefaultModelYetSaysSo() {
        XCTAssertThrowsError(try SegmentationModel.loadDefault()) { error in
            guard case CMFError.unsupported(let m) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(m, "no default model is bundled with this build yet; load your own weight files (for example a model made by cmfseg train)")
        }
    }

    func testHalfPairIsRefused() throws {
        let m = try model(metadata: [:])
        var input = SegmenterTests.syntheticCase()
        input.volumes[.flair] = nil
        XCTAssertThrowsError(try m.segment(input, options: SegmentationOptions(for: m))) { error in
            XCTAssertTrue("\(error)".contains("t2 is given without flair"), "\(error)")
        }
    }
}
