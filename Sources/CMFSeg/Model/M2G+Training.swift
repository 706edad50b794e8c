import CCMFKernels

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

    /// Backward of the mask-guided ``headLogits(_:_:_:_:)`` by one kernel (the 4F-channel head
    /// and its gradient are never built): ∂L/∂xx and ∂L/∂M (= ∂L/∂s₀ = ∂L/∂s₁ through
    /// `M = s₀ + s₁`); adds `conv_last`'s weight and bias gradients to `grads`.
    func headLogitsBackward(_ xx: Tensor, _ s0: Tensor, _ s1: Tensor, gradLogits: Tensor, grads: inout Gradients,
                            _ ctx: ForwardContext) throws -> (features: Tensor, mask: Tensor) {
        let (n, f, d, h, w) = try xx.dims5("head features")
        let c = classCount, plane = d * h * w
        guard s0.shape == [n, c, d, h, w], s1.shape == s0.shape, gradLogits.shape == s0.shape,
              convLast.inChannels == c * f else {
            throw CMFError.shape("mask-guided head backward: features \(xx.shape), masks \(s0.shape) and \(s1.shape), gradient \(gradLogits.shape), conv_last \(convLast.weight.shape) do not fit")
        }
        var gx = Tensor(uninitializedShape: xx.shape), gm = Tensor(uninitializedShape: s0.shape)
        let records = grads.recordsWeights, withBias = convLast.bias != nil
        var gw = [Float](repeating: 0, count: c * c * f), gb = [Float](repeating: 0, count: c)
        var sampleW = gw, sampleB = gb
        var rc: Int32 = 0
        for s in 0..<n where rc == 0 {
            let features = s * f * plane, classes = s * c * plane
            rc = xx.storage.withUnsafeBufferPointer { x in
                s0.storage.withUnsafeBufferPointer { a in
                    s1.storage.withUnsafeBufferPointer { b in
                        convLast.weight.storage.withUnsafeBufferPointer { wt in
                            gradLogits.storage.withUnsafeBufferPointer { g in
                                gx.storage.withUnsafeMutableBufferPointer { ox in
                                    gm.storage.withUnsafeMutableBufferPointer { om in
                                        sampleW.withUnsafeMutableBufferPointer { sw in
                                            sampleB.withUnsafeMutableBufferPointer { sb in
                                                cmfk_masked_head_backward_f32(
                                                    x.baseAddress! + features, Int64(f), a.baseAddress! + classes,
                                                    b.baseAddress! + classes, Int64(c), Int64(plane), wt.baseAddress,
                                                    g.baseAddress! + classes, ox.baseAddress! + features,
                                                    om.baseAddress! + classes, records ? sw.baseAddress : nil,
                                                    records && withBias ? sb.baseAddress : nil, Int32(clamping: ctx.threads))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for i in gw.indices { gw[i] += sampleW[i] }
            for i in gb.indices { gb[i] += sampleB[i] }
        }
        try kernelCheck(rc, "mask-guided head backward")
        if records {
            try grads.accumulate("conv_last.weight", Tensor(shape: convLast.weight.shape, storage: gw))
            if withBias { try grads.accumulate("conv_last.bias", Tensor(shape: [c], storage: gb)) }
        }
        return (gx, gm)
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
        var gS0 = gradS0, gS1 = gradS1
        let gXX: Tensor
        if maskGuided {
            let g = try headLogitsBackward(tape.xx.output, tape.s0, tape.s1, gradLogits: gFusedLogits, grads: &grads, ctx)
            gXX = g.features
            try gS0.add(g.mask)
            try gS1.add(g.mask)
        } else {
            gXX = try convLast.backward(input: tape.xx.output, gradOutput: gFusedLogits, name: "conv_last", grads: &grads,
                                        needInputGradient: true, ctx)!
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
