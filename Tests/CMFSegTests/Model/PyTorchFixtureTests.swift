@testable import CMFSeg
import TestSupport
import XCTest

/// The forward passes against PyTorch's outputs (Tests/Fixtures/pytorch, made with the
/// authors' model classes): max abs error ≤ 1e-4.
final class PyTorchFixtureTests: XCTestCase {
    static let m2gFiles = ["m2g_rand_net0", "m2g_rand_net1", "m2g_rand_fusion"].map { Fixtures.path("pytorch/\($0).safetensors") }

    func testM2GMatchesPyTorch() throws {
        let net = try Network.load(paths: Self.m2gFiles)
        XCTAssertEqual(net.architecture, .cmffM2G)
        XCTAssertEqual(net.leakySlope, 0.01)
        XCTAssertEqual(net.baseFilters, 16)
        XCTAssertTrue(net.notes.contains { $0.contains("inferred") })
        guard case .cmff(let m2g) = net.body else { return XCTFail("not CMFF") }
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io.safetensors"))
        let ctx = ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2)
        let out = try m2g.forward(XCTUnwrap(io["x0"]), XCTUnwrap(io["x1"]), ctx)
        let e0 = try out.s0.maxAbsDifference(XCTUnwrap(io["s0"]))
        let e1 = try out.s1.maxAbsDifference(XCTUnwrap(io["s1"]))
        let ef = try out.fused.maxAbsDifference(XCTUnwrap(io["fused"]))
        print("M2G vs PyTorch max abs error: s0 \(e0), s1 \(e1), fused \(ef)")
        XCTAssertLessThanOrEqual(e0, 1e-4)
        XCTAssertLessThanOrEqual(e1, 1e-4)
        XCTAssertLessThanOrEqual(ef, 1e-4)
    }

    /// bf16 convolutions (inputs and weights rounded to 8 significant bits, f32 accumulation)
    /// against PyTorch's f32 outputs: probabilities within a few hundredths (measured 0.013; the
    /// labels' change is measured on held-out phantoms, Sources/CMFSeg/Tensor/PERFORMANCE.md).
    /// The training entry points refuse bf16; engines without it say so.
    func testM2GInBF16StaysCloseToPyTorch() throws {
        let net = try Network.load(paths: Self.m2gFiles)
        guard case .cmff(let m2g) = net.body else { return XCTFail("not CMFF") }
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io.safetensors"))
        let engine = try OneDNNConvolutionEngine().with(precision: .bf16)
        XCTAssertEqual(engine.name, "onednn-bf16")
        let out = try m2g.forward(XCTUnwrap(io["x0"]), XCTUnwrap(io["x1"]), ForwardContext(engine: engine, threads: 2))
        let expected = try XCTUnwrap(io["fused"])
        let e = try out.fused.maxAbsDifference(expected)
        let (n, _, d, h, w) = try expected.dims5("fused")
        print("M2G bf16 vs PyTorch f32: max abs error \(e)")
        XCTAssertGreaterThan(e, 1e-6, "bf16 arithmetic should differ from f32")
        XCTAssertLessThanOrEqual(e, 0.05)

        XCTAssertThrowsError(try engine.backwardData(expected, weight: m2g.convLast.weight, inputShape: [n, 64, d, h, w],
                                                     geometry: ConvolutionGeometry(), threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("training computes in f32"), "\(error)")
        }
        XCTAssertThrowsError(try NaiveConvolutionEngine().with(precision: .bf16)) { error in
            XCTAssertTrue("\(error)".contains("f32 only"), "\(error)")
        }
    }

    /// The work of one 128³ forward as the benchmarks count it (571 GFLOP, the README's
    /// table and `Sources/CMFSeg/Tensor/PERFORMANCE.md`; 223 of them per branch).
    func testFlopCountMatchesBenchmarkDocs() throws {
        let net = try Network.load(paths: Self.m2gFiles)
        guard case .cmff(let m2g) = net.body else { return XCTFail("not CMFF") }
        XCTAssertEqual(net.flops(spatial: [128, 128, 128]) / 1e9, 571, accuracy: 1)
        XCTAssertEqual(m2g.net0.flops(spatial: [128, 128, 128]) / 1e9, 223, accuracy: 1)
    }

    func testBranch0InnerTensorsMatchPyTorch() throws {
        let net = try Network.load(paths: Self.m2gFiles)
        guard case .cmff(let m2g) = net.body else { return XCTFail("not CMFF") }
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io.safetensors"))
        let inner = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io_net0_inner.safetensors"))
        let out = try m2g.net0.forward(XCTUnwrap(io["x0"]), ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2))
        let el = try out.logits.maxAbsDifference(XCTUnwrap(inner["logits0"]))
        let ex = try out.x2.maxAbsDifference(XCTUnwrap(inner["net0_x2"]))
        print("net_0 vs PyTorch max abs error: logits \(el), x2 \(ex)")
        XCTAssertLessThanOrEqual(el, 1e-4)
        XCTAssertLessThanOrEqual(ex, 1e-4)
    }

    /// The single-pair baseline (a CMFF branch exported on its own, PyTorch names without
    /// `net_0.`), through the pipeline's predictor: its softmax is PyTorch's `s0`.
    func testSinglePairBaselineThroughPredictorMatchesPyTorch() throws {
        let m2g = try WeightSet.load(paths: Self.m2gFiles)
        var branch: [String: Tensor] = [:]
        for (k, v) in m2g.tensors where k.hasPrefix("net_0.") { branch[String(k.dropFirst(6))] = v }
        let net = try Network.load(WeightSet(tensors: branch))
        XCTAssertEqual(net.architecture, .unetSinglePair)
        let model = try SegmentationModel(network: net, context: ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2))
        let predictor = try model.predictor(available: [.t1, .t1ce])
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_io.safetensors"))
        let probabilities = try predictor.probabilities(for: XCTUnwrap(io["x0"]))
        let e = try probabilities.maxAbsDifference(XCTUnwrap(io["s0"]))
        print("single-pair baseline vs PyTorch s0 max abs error: \(e)")
        XCTAssertLessThanOrEqual(e, 1e-4)
    }

    func testTrainedDiscriminatorMatchesPyTorch() throws {
        let net = try Network.load(paths: [Fixtures.path("pytorch/disc_dx5.safetensors")])
        XCTAssertEqual(net.architecture, .discriminator)
        XCTAssertEqual(net.leakySlope, 0.2)
        guard case .discriminator(let disc) = net.body else { return XCTFail("not a discriminator") }
        let io = try SafeTensorsFile.read(path: Fixtures.path("pytorch/disc_io.safetensors"))
        for engine in [OneDNNConvolutionEngine() as any ConvolutionEngine, NaiveConvolutionEngine()] {
            let out = try disc.forward(XCTUnwrap(io["input"]), ForwardContext(engine: engine, threads: 2))
            let e = try out.maxAbsDifference(XCTUnwrap(io["output"]))
            print("Disc (\(engine.name)) vs PyTorch max abs error: \(e)")
            XCTAssertEqual(out.shape, [1, 1, 3, 4, 5])
            XCTAssertLessThanOrEqual(e, 1e-4)
        }
    }
}
