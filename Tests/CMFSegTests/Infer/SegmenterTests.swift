@testable import CMFSeg
import XCTest

final class SegmenterTests: XCTestCase {
    /// A synthetic case: an ellipsoidal "brain" with smooth intensities in a 30×26×20 grid,
    /// with an oblique geometry that must come back unchanged.
    static func syntheticCase(modalities: [Modality] = Modality.allCases) -> CaseInput {
        let grid = Shape3(30, 26, 20)
        var geometry = Geometry(spacing: SIMD3(0.9, 1.1, 1.3))
        geometry.sformCode = 2
        geometry.sform = [0.9, 0.05, 0, -90, 0, 1.1, 0.02, -120, 0.01, 0, 1.3, -60, 0, 0, 0, 1]
        geometry.qformCode = 1
        var volumes: [Modality: ImageVolume] = [:]
        for (m, modality) in modalities.enumerated() {
            var v = [Float](repeating: 0, count: grid.count)
            for z in 0..<grid.nz { for y in 0..<grid.ny { for x in 0..<grid.nx {
                let dx = Double(x - 15) / 12, dy = Double(y - 13) / 10, dz = Double(z - 10) / 8
                guard dx * dx + dy * dy + dz * dz <= 1 else { continue }
                v[grid.index(x, y, z)] = Float(100 + 30 * sin(Double(x + 3 * m) / 3) + 20 * cos(Double(y * z) / 7) + Double(m) * 10)
            } } }
            volumes[modality] = ImageVolume(shape: grid, geometry: geometry, voxels: v)
        }
        return CaseInput(volumes: volumes)
    }

    func testPipelineEqualsWholeVolumeArgmaxPastedBack() throws {
        let input = Self.syntheticCase()
        let model = LinearSoftmaxPredictor()
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        options.postProcess = nil
        options.keepProbabilities = true
        let result = try Segmenter.segment(input, predictor: model, options: options)

        let prepared = try Preprocessor.run(input, modalities: model.modalities, minimumSize: Shape3(16, 16, 16))
        let whole = try model.whole(prepared.input)
        let pad = prepared.paddedShape, grid = prepared.gridShape
        var expected = [UInt8](repeating: 0, count: grid.count)
        let values: [UInt8] = [0, 2, 1, 4]
        for z in 0..<grid.nz { for y in 0..<grid.ny { for x in 0..<grid.nx {
            let b = prepared.box
            guard x >= b.lower.x, x < b.upper.x, y >= b.lower.y, y < b.upper.y, z >= b.lower.z, z < b.upper.z else { continue }
            let i = pad.index(x - b.lower.x, y - b.lower.y, z - b.lower.z)
            let probs = (0..<4).map { whole.storage[$0 * pad.count + i] }
            expected[grid.index(x, y, z)] = values[probs.firstIndex(of: probs.max()!)!]
        } } }
        XCTAssertEqual(result.labels.voxels, expected)
        XCTAssertEqual(Set(result.labels.voxels).count > 1, true, "the fake must produce several labels")
        XCTAssertEqual(result.labels.shape, grid)
        XCTAssertEqual(result.labels.geometry, input.volumes[.t1]!.geometry)
        let probs = try XCTUnwrap(result.probabilities)
        XCTAssertEqual(probs.count, 4)
        for i in stride(from: 0, to: grid.count, by: 7) {
            XCTAssertEqual(probs.reduce(0) { $0 + $1.voxels[i] }, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(probs[0].voxels[0], 1)  // corner, outside the brain box
        XCTAssertEqual(probs[0].geometry, input.volumes[.t1]!.geometry)
        XCTAssertEqual(result.modalitiesMissing, [])
        XCTAssertTrue(result.summary.contains("all four modalities"), result.summary)
    }

    /// A voxel-wise model gives the same labels whatever the windows; the fitted layout uses
    /// the fewest windows the brain box needs, of the size it says.
    func testFittedWindowsCoverTheBrainBoxOnce() throws {
        let input = Self.syntheticCase()
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        options.postProcess = nil
        let grid = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)
        options.window.layout = .fitted
        options.window.patch = Shape3(32, 16, 32)
        let fitted = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)
        XCTAssertEqual(fitted.labels.voxels, grid.labels.voxels)
        let box = try Preprocessor.run(input, modalities: Modality.allCases).box.shape
        XCTAssertEqual(box, Shape3(25, 21, 17))
        XCTAssertEqual(fitted.timings.window, Shape3(32, 16, 24))  // the fake's size multiple is 8
        XCTAssertEqual(fitted.timings.windows, 2)
        XCTAssertGreaterThan(grid.timings.windows, fitted.timings.windows)
    }

    func testPostProcessingKeepsLabelsInsideTheBrain() throws {
        let input = Self.syntheticCase()
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        let result = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)
        let t1 = input.volumes[.t1]!
        for i in 0..<t1.voxels.count where t1.voxels[i] == 0 { XCTAssertEqual(result.labels.voxels[i], 0) }
        XCTAssertTrue(Set(result.labels.voxels).isSubset(of: [0, 1, 2, 4]))
    }

    func testMissingPairUsesTheOtherBranchAndSaysSo() throws {
        let input = Self.syntheticCase(modalities: Modality.pairB)
        var model = LinearSoftmaxPredictor()
        model.modalities = Modality.pairB
        model.weights = model.weights.map { Array($0.prefix(2)) }
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        let result = try Segmenter.segment(input, predictor: model, options: options)
        XCTAssertEqual(result.modalitiesUsed, [.t2, .flair])
        XCTAssertEqual(result.modalitiesMissing, [.t1, .t1ce])
        XCTAssertEqual(result.summary, "cmfseg \(CMFSegVersion.string): single pair t2,flair (t1,t1ce missing)")
        XCTAssertLessThanOrEqual(result.summary.utf8.count, 79)
        // A four-modality model cannot run on two.
        XCTAssertThrowsError(try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)) { error in
            XCTAssertTrue("\(error)".contains("needs t1"), "\(error)")
        }
    }

    func testClassValuesComeFromOptionsAndMustFitTheModel() throws {
        let input = Self.syntheticCase()
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        options.postProcess = nil
        options.classValues = [0, 2, 1, 3]  // BraTS 2023 labels
        let result = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)
        XCTAssertTrue(Set(result.labels.voxels).isSubset(of: [0, 1, 2, 3]))
        XCTAssertEqual(try ModelMetadata.parseClassValues("0,2,1,4"), [0, 2, 1, 4])
        XCTAssertThrowsError(try ModelMetadata.parseClassValues("0,2,x"))
        XCTAssertEqual(try ModelMetadata.parsePatch("96,128,112"), Shape3(112, 128, 96))
        XCTAssertThrowsError(try ModelMetadata.parsePatch("128,128"))
        options.classValues = [0, 1, 2]
        XCTAssertThrowsError(try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options))
    }

    func testCancelAndProgressReachTheCaller() throws {
        let input = Self.syntheticCase()
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        var seen: [Double] = []
        _ = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options,
                                  control: InferenceControl(progress: { seen.append($0); return true }))
        XCTAssertEqual(seen.first, 0)
        XCTAssertEqual(seen.last, 1)
        XCTAssertEqual(seen, seen.sorted())
        XCTAssertThrowsError(try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options,
                                                   control: InferenceControl(isCancelled: { true }))) { error in
            guard case CMFError.aborted = error else { return XCTFail("\(error)") }
        }
    }
}
