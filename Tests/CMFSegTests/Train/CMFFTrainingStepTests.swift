@testable import CMFSeg
import TestSupport
import XCTest

/// Two CMFF training steps against PyTorch (`train_cmff_step.safetensors`: the authors'
/// `M2G(2, 4, 4)`, soft-Dice loss, `Adam(lr=1e-4, weight_decay=1e-5)`).
///
/// The leaky ReLU's derivative jumps at 0, and about 600 normalised values per step lie within
/// 3e-4 of it; a few lie within float rounding (1e-6), where PyTorch's summation order and
/// ours may put them on different sides, moving a U-Net's gradients by up to 1e-2 relative.
/// `train_cmff_kinks.safetensors` (Tests/Scripts/torch_kinks) lists PyTorch's choices at
/// every value within 3e-4 of the kink; with those pinned, PyTorch float32 and float64 agree to
/// 4.5e-6, and ours must agree to 1e-4 (a wrong slope in one block's backward gives 1e-2).
final class CMFFTrainingStepTests: XCTestCase {
    static let oracle = try? SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmff_step.safetensors"))
    static let kinks = try? SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmff_kinks.safetensors"))

    /// PyTorch's leaky-ReLU derivatives near the kink at step `s`, by block.
    func pins(step s: Int) throws -> [String: [(index: Int, derivative: Float)]] {
        let k = try XCTUnwrap(Self.kinks)
        var out: [String: [(index: Int, derivative: Float)]] = [:]
        let prefix = "step\(s).kinks."
        for e in k.entries where e.name.hasPrefix(prefix) && e.name.hasSuffix(".index") {
            let block = String(e.name.dropFirst(prefix.count).dropLast(".index".count))
            let d = try XCTUnwrap(k["\(prefix)\(block).deriv"])
            out[block] = zip(e.tensor.storage, d.storage).map { (Int($0), $1) }
        }
        return out
    }

    func testTwoStepsMatchPyTorch() throws {
        let file = try XCTUnwrap(Self.oracle)
        var optimizer = AdamOptimizer(options: AdamOptions(learningRate: 1e-4, weightDecay: 1e-5))
        var exempt: [String: Set<Int>] = [:]
        for s in 1...2 {
            // Each step starts from PyTorch's parameters (step 2 from its step-1 result).
            let start = s == 1 ? "param." : "step1.after."
            var network = try Network.load(WeightSet(tensors: TrainingOracle.tensors(file, prefix: start)))
            XCTAssertEqual(network.architecture, .cmffM2G)
            XCTAssertEqual(network.baseFilters, 4)
            var ctx = ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2)
            ctx.pinnedLeakyDerivatives = try pins(step: s)
            XCTAssertGreaterThan(ctx.pinnedLeakyDerivatives.count, 20)
            let p = "step\(s)."
            let input = try Tensor.concatChannels([XCTUnwrap(file[p + "x0"]), XCTUnwrap(file[p + "x1"])])
            let labels = try XCTUnwrap(file[p + "labels"]).storage.map { UInt8($0) }
            try checkPinnedValues(network, input: input, step: s, ctx)
            let (losses, grads) = try SegmentationObjective.lossAndGradients(network, input: input, labels: labels, ctx)
            TrainingOracle.checkLoss(losses.total, file[p + "loss"], "step \(s) loss")
            for k in ["loss_0", "loss_1", "loss_f"] {
                TrainingOracle.checkLoss(losses.parts[k] ?? .nan, file[p + k], "step \(s) \(k)")
            }
            let expected = TrainingOracle.tensors(file, prefix: p + "grad.")
            try TrainingOracle.checkGradients(grads, expected: expected, what: "CMFF step \(s)", tolerance: 1e-4)
            // Adam sees the gradient plus weight_decay × parameter.
            var effective = expected
            for (name, p) in network.namedParameters() {
                if let g = effective[name] { effective[name] = try g.adding(p.scaled(by: 1e-5)) }
            }
            exempt.merge(TrainingOracle.nearZeroGradients(effective, tolerance: 1e-4)) { $0.union($1) }
            try optimizer.update(&network, gradients: grads, threads: 2)
            try TrainingOracle.checkParameters(network.namedParameters(), expected: TrainingOracle.tensors(file, prefix: p + "after."),
                                               what: "CMFF step \(s)", exempt: exempt)
        }
    }

    /// The pins address the right voxels: our normalised value there is PyTorch's to 1e-4
    /// (a random voxel's is of order 1, so a layout mistake fails at once).
    func checkPinnedValues(_ network: Network, input: Tensor, step s: Int, _ ctx: ForwardContext) throws {
        guard case .cmff(let m) = network.body else { return XCTFail("not CMFF") }
        let (_, tape) = try m.forwardTraining(input.channels(0..<2), input.channels(2..<4), ctx)
        var outputs: [String: CNLSaved] = ["conv_nl_1": tape.xx1, "conv_nl_2": tape.xx2, "conv_nl_f": tape.xx]
        for (k, id) in M3DUNet.blockIDs.enumerated() {
            outputs["net_0.conv_norm_lrelu_\(id)"] = tape.net0.blocks[k]
            outputs["net_1.conv_norm_lrelu_\(id)"] = tape.net1.blocks[k]
        }
        let k = try XCTUnwrap(Self.kinks)
        var checked = 0
        for (block, pins) in ctx.pinnedLeakyDerivatives {
            let y = try XCTUnwrap(outputs[block], "unknown block \(block)").output
            let n = try XCTUnwrap(k["step\(s).kinks.\(block).n"])
            for ((i, _), want) in zip(pins, n.storage) {
                let v = y.storage[i], ours = v >= 0 ? v : v / 0.01
                XCTAssertEqual(ours, want, accuracy: 1e-4, "\(block)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 500)
    }

    /// Without the pins, the few voxels within rounding of the kink are the only difference:
    /// still within 2e-2 of PyTorch (the unpinned float32-vs-float64 spread is 8e-3).
    func testUnpinnedGradientsAreWithinTheKinkSpread() throws {
        let file = try XCTUnwrap(Self.oracle)
        let network = try Network.load(WeightSet(tensors: TrainingOracle.tensors(file, prefix: "param.")))
        let input = try Tensor.concatChannels([XCTUnwrap(file["step1.x0"]), XCTUnwrap(file["step1.x1"])])
        let labels = try XCTUnwrap(file["step1.labels"]).storage.map { UInt8($0) }
        for engine in [OneDNNConvolutionEngine() as any ConvolutionEngine, NaiveConvolutionEngine()] {
            let (losses, grads) = try SegmentationObjective.lossAndGradients(
                network, input: input, labels: labels, ForwardContext(engine: engine, threads: 2))
            TrainingOracle.checkLoss(losses.total, file["step1.loss"], "\(engine.name) engine loss")
            try TrainingOracle.checkGradients(grads, expected: TrainingOracle.tensors(file, prefix: "step1.grad."),
                                              what: "\(engine.name) engine, unpinned", tolerance: 2e-2)
        }
    }
}
