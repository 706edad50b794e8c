/// The segmentation loss of the method and its gradients: the V-Net soft Dice over the
/// foreground classes (``Loss/softDice(probabilities:labels:eps:threads:)``), for CMFF the
/// mean of the three Dice losses of branch 0, branch 1 and the fusion (the authors' `seg2g.py`),
/// plus, when given, the feature-distillation loss (``FeatureDistillation``).
public enum SegmentationObjective {
    /// Loss values of one step.
    public struct Losses: Sendable, Equatable {
        /// What is minimised (the mean of `parts` for CMFF).
        public var total: Double
        /// `loss_0`, `loss_1`, `loss_f` for CMFF (and `loss_distill` with distillation); `loss`
        /// for a single network.
        public var parts: [String: Double]
        /// Soft Dice per foreground class (edema, NCR/NET, ET) of the prediction inference
        /// uses (the fusion for CMFF).
        public var dice: [Double]
    }

    /// Forward, loss and backward of a segmentation network on one batch.
    /// - Parameters:
    ///   - input: `[N, C, D, H, W]` with the network's channels (both pairs, pair A first, for CMFF).
    ///   - labels: class index per voxel of `input`'s spatial grid (network class order).
    ///   - distillation: teachers for CMFF's branches (their adapters' gradients are returned
    ///     too, under `distill.…`).
    /// - Returns: the losses and every parameter's gradient (PyTorch names).
    /// - Throws: `CMFError.unsupported` for a network that does not segment, or distillation
    ///   into one that is not CMFF; shape errors.
    public static func lossAndGradients(_ network: Network, input: Tensor, labels: [UInt8],
                                        distillation: FeatureDistillation? = nil,
                                        _ ctx: ForwardContext) throws -> (Losses, Gradients) {
        let t = ctx.threads
        var grads = Gradients()
        switch network.body {
        case .cmff(let m):
            let half = m.net0.inChannels
            let (_, c, _, _, _) = try input.dims5("CMFF training input")
            guard c == 2 * half else {
                throw CMFError.shape("CMFF training input has \(c) channels, the model takes \(half) per branch")
            }
            let inputs = [try input.channels(0..<half), try input.channels(half..<c)]
            let (out, tape) = try m.forwardTraining(inputs[0], inputs[1], ctx)
            let d0 = try Loss.softDice(probabilities: out.s0, labels: labels, threads: t)
            let d1 = try Loss.softDice(probabilities: out.s1, labels: labels, threads: t)
            let df = try Loss.softDice(probabilities: out.fused, labels: labels, threads: t)
            // The mean of three losses: each gradient / 3.
            let g0 = d0.value.gradient.scaled(by: 1.0 / 3), g1 = d1.value.gradient.scaled(by: 1.0 / 3)
            let gf = df.value.gradient.scaled(by: 1.0 / 3)
            var parts = ["loss_0": d0.value.loss, "loss_1": d1.value.loss, "loss_f": df.value.loss]
            var total = (d0.value.loss + d1.value.loss + df.value.loss) / 3
            var features: [[(block: Int, gradient: Tensor)]] = [[], []]
            if let distillation {
                let d = try distillation.lossAndGradients(inputs: inputs, studentTapes: [tape.net0, tape.net1],
                                                          grads: &grads, ctx)
                features = d.featureGradients
                parts["loss_distill"] = d.loss
                total += d.loss
            }
            try m.backward(tape, gradS0: g0, gradS1: g1, gradFused: gf, branchFeatureGradients: features, grads: &grads, ctx)
            return (Losses(total: total, parts: parts, dice: df.dicePerClass), grads)
        case .unet(let u):
            guard network.architecture.isSegmentation else {
                throw CMFError.unsupported("a \(network.architecture.rawValue) network is not trained with the segmentation loss")
            }
            guard distillation == nil else {
                throw CMFError.unsupported("feature distillation teaches the two branches of CMFF; a \(network.architecture.rawValue) network has none")
            }
            let (logits, tape) = try u.forwardTraining(input, ctx)
            var s = logits
            try s.softmaxChannels(threads: t)
            let d = try Loss.softDice(probabilities: s, labels: labels, threads: t)
            let gLogits = try s.softmaxChannelsBackward(gradOutput: d.value.gradient, threads: t)
            _ = try u.backward(tape, gradLogits: gLogits, grads: &grads, needInputGradient: false, ctx)
            return (Losses(total: d.value.loss, parts: ["loss": d.value.loss], dice: d.dicePerClass), grads)
        case .discriminator:
            throw CMFError.unsupported("a discriminator is not trained with the segmentation loss")
        }
    }
}
