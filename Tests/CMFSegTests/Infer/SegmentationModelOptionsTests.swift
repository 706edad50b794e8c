@testable import CMFSeg
import TestSupport
import XCTest

/// Model metadata → pipeline options (window, class values, normalisation), and the default model.
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

    func testMetadataSetsWindowClassValuesAndNormalisation() throws {
        let o = try SegmentationOptions(for: model(metadata: ["patch": "96,112,128", "class_values": "0,2,1,3",
                                                              "normalization": "zscore-nonzero-p2-98-nzstd"]))
        XCTAssertEqual(o.window.patch, Shape3(128, 112, 96))
        XCTAssertEqual(o.classValues, [0, 2, 1, 3])
        XCTAssertEqual(o.preprocess.normalization, .nonZeroStd)
        // a window validated beyond the training patch
        let w = try SegmentationOptions(for: model(metadata: ["patch": "96,96,96", "window": "128,128,112"]))
        XCTAssertEqual(w.window.patch, Shape3(112, 128, 128))
        XCTAssertThrowsError(try SegmentationOptions(for: model(metadata: ["window": "128,100,128"]))) { error in
            XCTAssertTrue("\(error)".contains("metadata window"), "\(error)")
        }
        XCTAssertThrowsError(try SegmentationOptions(for: model(metadata: ["normalization": "minmax"]))) { error in
            guard case CMFError.unsupported(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("minmax"), m)
        }
    }

    func testDefaultModelIsTheMethodWithItsProvenance() throws {
        let m = try SegmentationModel.loadDefault()
        XCTAssertEqual(m.network.architecture, .cmffM2G)
        XCTAssertEqual(m.network.baseFilters, 16)
        let meta = m.network.metadata
        for key in ["training_command", "training_data_seeds", "training_cases", "training_steps", "training_patch",
                    "training_date", "validation_dice", "storage"] {
            XCTAssertFalse((meta[key] ?? "").isEmpty, "the default model's metadata lacks \(key)")
        }
        let o = try SegmentationOptions(for: m)
        XCTAssertEqual(o.classValues, [0, 2, 1, 4])
        XCTAssertEqual(m.patch.dhwText, meta["training_patch"])
        XCTAssertEqual(o.window.patch.dhwText, meta["window"], "held-out Dice was measured with these windows")
        let bytes = try FileManager.default.attributesOfItem(atPath: BundledResources.file(SegmentationModel.defaultModelResource).path)[.size] as? Int
        XCTAssertLessThanOrEqual(bytes ?? .max, 20_000_000)
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
