@testable import CMFSeg
import TestSupport
import XCTest

/// Two CMFF training steps against PyTorch (`train_cmff_step.safetensors`: the authors'
/// `M2G(2, 4, 4)`, soft-Dice loss, `Adam(lr=1e-4, weight_decay=1e-5)`).
final class CMFFTrainingStepTests: XCTestCase {
    func testTwoStepsMatchPyTorch() throws {
        let file = try SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmff_step.safetensors"))
        var network = try Network.load(WeightSet(tensors: TrainingOracle.tensors(file, prefix: "param.")))
        XCTAssertEqual(network.architecture, .cmffM2G)
        XCTAssertEqual(network.baseFilters, 4)
        var optimizer = AdamOptimizer(options: AdamOptions(learningRate: 1e-4, weightDecay: 1e-5))
        let ctx = ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2)
        for s in 1...2 {
            let p = "step\(s)."
            let input = try Tensor.concatChannels([XCTUnwrap(file[p + "x0"]), XCTUnwrap(file[p + "x1"])])
            let labels = try XCTUnwrap(file[p + "labels"]).storage.map { UInt8($0) }
            let (losses, grads) = try SegmentationObjective.lossAndGradients(network, input: input, labels: labels, ctx)
            TrainingOracle.checkLoss(losses.total, file[p + "loss"], "step \(s) loss")
            for k in ["loss_0", "loss_1", "loss_f"] {
                TrainingOracle.checkLoss(losses.parts[k] ?? .nan, file[p + k], "step \(s) \(k)")
            }
            try TrainingOracle.checkGradients(grads, expected: TrainingOracle.tensors(file, prefix: p + "grad."), what: "CMFF step \(s)")
            try optimizer.update(&network, gradients: grads, threads: 2)
            try TrainingOracle.checkParameters(network.namedParameters(), expected: TrainingOracle.tensors(file, prefix: p + "after."),
                                               what: "CMFF step \(s)")
        }
    }

    /// The naive engine (the oracle of the fast kernels) gives the same gradients.
    func testNaiveEngineGradientsAgree() throws {
        let file = try SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmff_step.safetensors"))
        let network = try Network.load(WeightSet(tensors: TrainingOracle.tensors(file, prefix: "param.")))
        let input = try Tensor.concatChannels([XCTUnwrap(file["step1.x0"]), XCTUnwrap(file["step1.x1"])])
        let labels = try XCTUnwrap(file["step1.labels"]).storage.map { UInt8($0) }
        let (losses, grads) = try SegmentationObjective.lossAndGradients(
            network, input: input, labels: labels, ForwardContext(engine: NaiveConvolutionEngine(), threads: 2))
        TrainingOracle.checkLoss(losses.total, file["step1.loss"], "naive engine loss")
        try TrainingOracle.checkGradients(grads, expected: TrainingOracle.tensors(file, prefix: "step1.grad."), what: "naive engine")
    }
}
