@testable import CMFSeg
import TestSupport
import XCTest

/// One CMFT (CycleGAN) iteration against PyTorch (`train_cmft_step.safetensors`: the
/// authors' `gan.py` with two `M3DUNet(2, 2, 4)` generators and two `Disc(2, 1, 4)`).
final class CMFTIterationTests: XCTestCase {
    func testOneIterationMatchesPyTorch() throws {
        let file = try SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmft_step.safetensors"))
        func network(_ key: String) throws -> Network {
            var set = WeightSet(tensors: TrainingOracle.tensors(file, prefix: "param.\(key)."))
            set.metadata["leaky_slope"] = "0.2"
            return try Network.load(set)
        }
        guard case .unet(let gAB) = try network("g_x2y").body, case .unet(let gBA) = try network("g_y2x").body,
              case .discriminator(let dB) = try network("d_x").body, case .discriminator(let dA) = try network("d_y").body else {
            return XCTFail("unexpected architectures in the oracle")
        }
        var gan = CycleGAN(gAB: gAB, gBA: gBA, dA: dA, dB: dB)
        let a = try XCTUnwrap(file["img_x"]), b = try XCTUnwrap(file["img_y"])
        let ctx = ForwardContext(engine: OneDNNConvolutionEngine(), threads: 2)
        let adam = AdamOptions(learningRate: 1e-4, weightDecay: 0)
        var pools = (a: FakeImagePool(), b: FakeImagePool())
        var rng = SeededRandom(seed: 1)
        var opt = (gAB: AdamOptimizer(options: adam), gBA: AdamOptimizer(options: adam),
                   dA: AdamOptimizer(options: adam), dB: AdamOptimizer(options: adam))

        let g = try gan.generatorGradients(a: a, b: b, ctx)
        for (ours, theirs) in [(g.translations.aToB, "x2y"), (g.translations.bToA, "y2x"),
                               (g.translations.aToBToA, "x2y2x"), (g.translations.bToAToB, "y2x2y")] {
            let e = try ours.maxAbsDifference(XCTUnwrap(file[theirs]))
            XCTAssertLessThanOrEqual(e, 1e-4, "translation \(theirs)")
        }
        TrainingOracle.checkLoss(g.losses.adversarialA, file["adv_x"], "adv_x")
        TrainingOracle.checkLoss(g.losses.adversarialB, file["adv_y"], "adv_y")
        TrainingOracle.checkLoss(g.losses.cycleA, file["cyc_x"], "cyc_x")
        TrainingOracle.checkLoss(g.losses.cycleB, file["cyc_y"], "cyc_y")
        TrainingOracle.checkLoss(g.losses.generator, file["gen_loss"], "gen_loss")
        try TrainingOracle.checkGradients(g.gAB, expected: TrainingOracle.tensors(file, prefix: "grad.g_x2y."), what: "G_AB")
        try TrainingOracle.checkGradients(g.gBA, expected: TrainingOracle.tensors(file, prefix: "grad.g_y2x."), what: "G_BA")
        try opt.gAB.update(&gan.gAB, gradients: g.gAB, threads: 2)
        try opt.gBA.update(&gan.gBA, gradients: g.gBA, threads: 2)

        // The pools return the newest fake while they hold fewer than 10.
        let fakeB = pools.b.query(g.translations.aToB, rng: &rng), fakeA = pools.a.query(g.translations.bToA, rng: &rng)
        let db = try CycleGAN.discriminatorGradients(gan.dB, real: b, fake: fakeB, ctx)
        let da = try CycleGAN.discriminatorGradients(gan.dA, real: a, fake: fakeA, ctx)
        TrainingOracle.checkLoss(db.loss, file["loss_dx"], "loss_dx")
        TrainingOracle.checkLoss(da.loss, file["loss_dy"], "loss_dy")
        try TrainingOracle.checkGradients(db.grads, expected: TrainingOracle.tensors(file, prefix: "grad.d_x."), what: "D_B")
        try TrainingOracle.checkGradients(da.grads, expected: TrainingOracle.tensors(file, prefix: "grad.d_y."), what: "D_A")
        try opt.dB.update(&gan.dB, gradients: db.grads, threads: 2)
        try opt.dA.update(&gan.dA, gradients: da.grads, threads: 2)

        // Adam's first step is about lr · sign(g): elements whose gradient is within the
        // gradient tolerance of 0 are left out (no weight decay here).
        for (net, key) in [(gan.gAB.namedParameters(), "g_x2y"), (gan.gBA.namedParameters(), "g_y2x"),
                           (gan.dB.namedParameters(), "d_x"), (gan.dA.namedParameters(), "d_y")] {
            let exempt = TrainingOracle.nearZeroGradients(TrainingOracle.tensors(file, prefix: "grad.\(key)."), tolerance: 1e-3)
            try TrainingOracle.checkParameters(net, expected: TrainingOracle.tensors(file, prefix: "after.\(key)."), what: key,
                                               exempt: exempt)
        }
    }
}
