@testable import CMFSeg
import TestSupport
import Foundation
import XCTest

final class SegmentationModelTests: XCTestCase {
    func testRawM2GExportGetsAuthorsDefaultsAndRoutes() throws {
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles,
                                          context: ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2))
        XCTAssertEqual(model.architecture, .cmffM2G)
        XCTAssertEqual(model.classValues, [0, 2, 1, 4])
        XCTAssertEqual(model.pairs, [[.t1, .t1ce], [.t2, .flair]])
        XCTAssertEqual(model.patch, Shape3(128, 128, 128))
        XCTAssertEqual(model.normalization, .authors)  // "zscore-nonzero-p2-98"
        XCTAssertFalse(model.notes.isEmpty)
        XCTAssertEqual(try model.route(available: Set(Modality.allCases)), .fused)
        XCTAssertEqual(try model.route(available: [.t1, .t1ce, .flair]), .branchA)
        XCTAssertEqual(try model.route(available: [.t2, .flair]), .branchB)
        XCTAssertThrowsError(try model.route(available: [.t1, .flair])) { error in
            guard case CMFError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("t1+t1ce"), m)
        }
        XCTAssertEqual(try model.predictor(available: [.t2, .flair]).modalities, [.t2, .flair])
    }

    /// The predictor's three routes give exactly the model's s0, s1 and fused outputs.
    func testPredictorRoutesMatchPyTorchOutputs() throws {
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles,
                                          context: ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2))
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io.safetensors"))
        let x0 = try XCTUnwrap(io["x0"]), x1 = try XCTUnwrap(io["x1"])
        let all = try Tensor.concatChannels([x0, x1])
        let fused = try model.predictor(available: Set(Modality.allCases)).probabilities(for: all)
        XCTAssertLessThanOrEqual(try fused.maxAbsDifference(XCTUnwrap(io["fused"])), 1e-4)
        let p0 = try model.predictor(available: [.t1, .t1ce])
        XCTAssertEqual(p0.route, .branchA)
        XCTAssertLessThanOrEqual(try p0.probabilities(for: x0).maxAbsDifference(XCTUnwrap(io["s0"])), 1e-4)
        let p1 = try model.predictor(available: [.t2, .flair])
        XCTAssertLessThanOrEqual(try p1.probabilities(for: x1).maxAbsDifference(XCTUnwrap(io["s1"])), 1e-4)
        XCTAssertThrowsError(try p1.probabilities(for: all))
    }

    func testForwardPassCanBeCancelledBetweenLayers() throws {
        let calls = Counter()
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles,
                                          context: ForwardContext(threads: 1, isCancelled: { calls.increment() > 3 }))
        let p = try model.predictor(available: [.t1, .t1ce])
        XCTAssertThrowsError(try p.probabilities(for: Tensor(zeros: [1, 2, 16, 16, 16]))) { e in
            guard case CMFError.aborted = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(calls.value, 4)
    }

    func testSegmentCancelReachesInsideTheNetwork() throws {
        // the flag turns on during the first window: the run stops inside that network call
        // (between layers), not after the window
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles, context: ForwardContext(threads: 1))
        var options = SegmentationOptions(for: model)
        options.window.patch = Shape3(16, 16, 16)
        let polls = Counter()
        let control = InferenceControl(isCancelled: { polls.increment() > 5 })
        XCTAssertThrowsError(try model.segment(SegmenterTests.syntheticCase(), options: options, control: control)) { e in
            guard case CMFError.aborted(let m) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(m, "forward pass cancelled")
        }
        XCTAssertEqual(polls.value, 6)
    }

    func testDiscriminatorIsNotASegmentationModel() {
        XCTAssertThrowsError(try SegmentationModel(weightPaths: [Fixtures.path("pytorch/disc_dx5.safetensors")])) { error in
            guard case CMFError.unsupported = error else { return XCTFail("\(error)") }
        }
    }
}

/// A thread-safe call counter for the cancellation test.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    /// Increments and returns the new count.
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
