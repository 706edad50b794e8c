/// Training forward and backward of the layers. A backward reads what its forward kept — the
/// layer's input and output, and for `CNL` the 1/std of each channel — and recomputes the
/// rest: with a positive leaky slope the normalised value is recoverable from the output,
/// so no pre-normalisation copy is stored.

/// What a `CNL` forward keeps for its backward.
public struct CNLSaved: Sendable {
    /// The block's output (after normalisation and activation).
    public var output: Tensor
    /// 1/√(var + eps) of each (sample, channel) plane.
    public var invStd: [Float]
}

extension Conv3d {
    /// Backward of `forward`: adds ∂L/∂weight and ∂L/∂bias under `name` + `.weight` / `.bias`
    /// (when `grads.recordsWeights`) and returns ∂L/∂input when `needInputGradient`.
    /// - Parameters: input: what `forward` read; gradOutput: ∂L/∂output.
    public func backward(input: Tensor, gradOutput: Tensor, name: String, grads: inout Gradients,
                         needInputGradient: Bool, _ ctx: ForwardContext) throws -> Tensor? {
        if grads.recordsWeights {
            let g = try ctx.engine.backwardWeights(input, gradOutput: gradOutput, weightShape: weight.shape,
                                                   withBias: bias != nil, geometry: geometry, threads: ctx.threads)
            try grads.accumulate(name + ".weight", g.weight)
            if let b = g.bias { try grads.accumulate(name + ".bias", b) }
        }
        guard needInputGradient else { return nil }
        return try ctx.engine.backwardData(gradOutput, weight: weight, inputShape: input.shape, geometry: geometry,
                                           threads: ctx.threads)
    }
}

extension CNL {
    /// The forward of training: the same output as `forward`, plus what backward needs.
    /// - Throws: `CMFError.unsupported` for a slope ≤ 0 (the output would not determine the
    ///   normalised value).
    public func forwardTraining(_ x: Tensor, _ ctx: ForwardContext) throws -> CNLSaved {
        guard activation.slope > 0 else {
            throw CMFError.unsupported("training needs a positive leaky-ReLU slope (got \(activation.slope))")
        }
        let r = try ctx.engine.forwardTrainingInstanceNormLeakyReLU(
            x, weight: conv.weight, bias: conv.bias, geometry: conv.geometry, eps: norm.eps,
            slope: activation.slope, threads: ctx.threads)
        return CNLSaved(output: r.output, invStd: r.invStd)
    }

    /// Backward of `forwardTraining`.
    /// - Parameters:
    ///   - input: the block's input; saved: what `forwardTraining` returned for it.
    ///   - gradOutput: ∂L/∂output; name: the block's PyTorch name (`…conv_norm_lrelu_11`).
    /// - Returns: ∂L/∂input when `needInputGradient`, else nil.
    public func backward(input: Tensor, saved: CNLSaved, gradOutput: Tensor, name: String, grads: inout Gradients,
                         needInputGradient: Bool, _ ctx: ForwardContext) throws -> Tensor? {
        var g = gradOutput
        if let pins = ctx.pinnedLeakyDerivatives[name] {
            // The kernel applies 1 where y >= 0, else the slope; scale so it yields the pin.
            let slope = activation.slope
            for (i, d) in pins where i >= 0 && i < g.count {
                g.storage[i] *= d / (saved.output.storage[i] >= 0 ? 1 : slope)
            }
        }
        let pre = try saved.output.instanceNormLeakyReLUBackward(gradOutput: g, invStd: saved.invStd,
                                                                 slope: activation.slope, threads: ctx.threads)
        return try conv.backward(input: input, gradOutput: pre, name: name + ".0", grads: &grads,
                                 needInputGradient: needInputGradient, ctx)
    }
}
