/// CMFF's training forward and backward. The fusion's mask products are differentiated
/// through the masks too (the authors do not detach `M = s₀ + s₁`), so the fused loss also
/// trains both branches through their softmax outputs.
extension M2G {
    /// What the training forward keeps.
    public struct Tape: Sendable {
        public var net0: M3DUNet.Tape
        public var net1: M3DUNet.Tape
        public var s0: Tensor
        public var s1: Tensor
        /// `conv_nl_1` on the full-resolution features; `conv_nl_2` on the half-resolution
        /// ones (before up-sampling); `conv_nl_f` on both.
        public var xx1: CNLSaved
        public var xx2: CNLSaved
        public var xx: CNLSaved
        public var fused: Tensor
    }

    /// The training forward: the same outputs as `forward`, and the tape.
    public func forwardTraining(_ x0: Tensor, _ x1: Tensor, _ ctx: ForwardContext) throws -> (output: Output, tape: Tape) {
        guard x0.shape == x1.shape else {
            throw CMFError.shape("CMFF inputs differ in shape: \(x0.shape) vs \(x1.shape)")
        }
        let t = ctx.threads
        let (l0, tape0) = try net0.forwardTraining(x0, ctx)
        let (l1, tape1) = try net1.forwardTraining(x1, ctx)
        var s0 = l0, s1 = l1
        try s0.softmaxChannels(threads: t)
        try s1.softmaxChannels(threads: t)
        let xx1 = try convNL1.forwardTraining(Tensor.concatChannels([tape0.x1, tape1.x1], threads: t), ctx)
        let xx2 = try convNL2.forwardTraining(Tensor.concatChannels([tape0.x2, tape1.x2], threads: t), ctx)
        let xx = try convNLF.forwardTraining(Tensor.concatChannels([xx1.output, xx2.output.upsample2(threads: t)], threads: t), ctx)
        var fused = try headLogits(xx.output, s0, s1, ctx)
        try fused.softmaxChannels(threads: t)
        let tape = Tape(net0: tape0, net1: tape1, s0: s0, s1: s1, xx1: xx1, xx2: xx2, xx: xx, fused: fused)
        return (Output(s0: s0, s1: s1, fused: fused), tape)
    }

    /// The input of `conv_last`: `cat_c(xx · M[c])` with `M = s₀ + s₁`, or `xx` alone
    /// without mask guidance.
    func head(_ xx: Tensor, _ s0: Tensor, _ s1: Tensor, threads: Int) throws -> Tensor {
        guard maskGuided else { return xx }
        let m = try s0.adding(s1)
        return try Tensor.concatChannels((0..<m.shape[1]).map { try xx.multipliedByChannel($0, of: m, threads: threads) })
    }

    /// Backward of `forwardTraining` from the gradients of the three softmax outputs; adds
    /// every parameter's gradient to `grads` under the PyTorch names (`net_0.…`, `conv_nl_1.0.…`).
    /// `branchFeatureGradients[b]`: further ∂L/∂(block output) of branch b, as (block index,
    /// gradient) pairs (feature distillation).
    public func backward(_ tape: Tape, gradS0: Tensor, gradS1: Tensor, gradFused: Tensor,
                         branchFeatureGradients: [[(block: Int, gradient: Tensor)]] = [[], []],
                         grads: inout Gradients, _ ctx: ForwardContext) throws {
        let t = ctx.threads
        let f = convNLF.conv.outChannels
        let gFusedLogits = try tape.fused.softmaxChannelsBackward(gradOutput: gradFused, threads: t)
        let head = try head(tape.xx.output, tape.s0, tape.s1, threads: t)
        let gHead = try convLast.backward(input: head, gradOutput: gFusedLogits, name: "conv_last", grads: &grads,
                                          needInputGradient: true, ctx)!
        var gS0 = gradS0, gS1 = gradS1
        var gXX: Tensor
        if maskGuided {
            let m = try tape.s0.adding(tape.s1)
            var gx: Tensor?
            var gm: [Tensor] = []
            for c in 0..<m.shape[1] {
                let part = try gHead.channels((c * f)..<((c + 1) * f))
                let g = try tape.xx.output.multipliedByChannelBackward(c, of: m, gradOutput: part, threads: t)
                if gx == nil { gx = g.x } else { try gx!.add(g.x) }
                gm.append(g.maskChannel)
            }
            gXX = gx!
            let gM = try Tensor.concatChannels(gm)
            try gS0.add(gM)
            try gS1.add(gM)
        } else {
            gXX = gHead
        }
        let xx2Up = try tape.xx2.output.upsample2(threads: t)
        let gCat = try convNLF.backward(input: Tensor.concatChannels([tape.xx1.output, xx2Up], threads: t), saved: tape.xx,
                                        gradOutput: gXX, name: "conv_nl_f", grads: &grads, needInputGradient: true, ctx)!
        let gXX1 = try gCat.channels(0..<f)
        let gXX2 = try gCat.channels(f..<(2 * f)).upsample2Backward(threads: t)
        let g2 = try convNL2.backward(input: Tensor.concatChannels([tape.net0.x2, tape.net1.x2], threads: t), saved: tape.xx2,
                                      gradOutput: gXX2, name: "conv_nl_2", grads: &grads, needInputGradient: true, ctx)!
        let g1 = try convNL1.backward(input: Tensor.concatChannels([tape.net0.x1, tape.net1.x1], threads: t), saved: tape.xx1,
                                      gradOutput: gXX1, name: "conv_nl_1", grads: &grads, needInputGradient: true, ctx)!
        let b = net0.baseFilters   // x1 and x2 of each branch have the base width
        // the fusion's gradients into each branch's x1 and x2, after any others it was given
        func features(_ branch: Int) throws -> [(block: Int, gradient: Tensor)] {
            let range = (branch * b)..<((branch + 1) * b)
            let given = branchFeatureGradients.indices.contains(branch) ? branchFeatureGradients[branch] : []
            return given + [(M3DUNet.x1Index, try g1.channels(range)), (M3DUNet.x2Index, try g2.channels(range))]
        }
        let gL0 = try tape.s0.softmaxChannelsBackward(gradOutput: gS0, threads: t)
        _ = try net0.backward(tape.net0, gradLogits: gL0, featureGradients: features(0),
                              prefix: "net_0.", grads: &grads, needInputGradient: false, ctx)
        let gL1 = try tape.s1.softmaxChannelsBackward(gradOutput: gS1, threads: t)
        _ = try net1.backward(tape.net1, gradLogits: gL1, featureGradients: features(1),
                              prefix: "net_1.", grads: &grads, needInputGradient: false, ctx)
    }
}
