/// `torch.optim.Adam` over a network's named parameters: the moments of each parameter
/// kept under its name, one update per parameter tensor (``Adam/update``), optional
/// gradient-norm clipping as `torch.nn.utils.clip_grad_norm_`.
public struct AdamOptimizer: Sendable {
    public var options: AdamOptions
    /// Clip the global gradient norm to this value before the update (nil: no clipping).
    public var maxGradientNorm: Double?
    /// Updates done so far (PyTorch's `state["step"]`; the next update is `step + 1`).
    public private(set) var step = 0
    private var m: [String: Tensor] = [:]
    private var v: [String: Tensor] = [:]

    public init(options: AdamOptions, maxGradientNorm: Double? = nil) {
        self.options = options
        self.maxGradientNorm = maxGradientNorm
    }

    /// One update of every parameter of `network` that has a gradient (a parameter
    /// without one is left alone, as PyTorch skips parameters whose `.grad` is None).
    /// - Returns: the gradient norm before clipping.
    /// - Throws: `CMFError.shape` when a gradient's shape differs from its parameter's,
    ///   `.invalidArgument` for a non-finite gradient norm (the update is not applied).
    @discardableResult
    public mutating func update<N: ParameterContainer>(_ network: inout N, gradients: Gradients, threads: Int) throws -> Double {
        var grads = gradients
        let norm = try grads.norm(threads: threads)
        guard norm.isFinite else {
            throw CMFError.invalidArgument("the gradient norm is \(norm); the update was not applied (lower the learning rate or clip the gradients)")
        }
        if let maxNorm = maxGradientNorm, norm > maxNorm {
            grads.scale(by: Float(maxNorm / (norm + 1e-6)))
        }
        step += 1
        let s = step, o = options
        try network.visitParameters(prefix: "") { name, p in
            guard let g = grads[name] else { return }
            guard g.shape == p.shape else {
                throw CMFError.shape("gradient of \(name) has shape \(g.shape), the parameter \(p.shape)")
            }
            var mt = m[name] ?? Tensor(zeros: p.shape), vt = v[name] ?? Tensor(zeros: p.shape)
            m[name] = nil; v[name] = nil   // unique references: updated in place
            try Adam.update(&p, gradient: g, m: &mt, v: &vt, step: s, options: o, threads: threads)
            m[name] = mt; v[name] = vt
        }
        return norm
    }

    /// The optimiser state as named tensors (`adam.m.<name>`, `adam.v.<name>`) for a
    /// checkpoint; `step` travels in the checkpoint's metadata.
    public func stateTensors() -> [(String, Tensor)] {
        m.keys.sorted().flatMap { [("adam.m.\($0)", m[$0]!), ("adam.v.\($0)", v[$0]!)] }
    }

    /// Restores the state written by `stateTensors()`.
    /// - Throws: `CMFError.format` for a moment without its pair or a negative step.
    public mutating func restore(step: Int, tensors: [String: Tensor]) throws {
        guard step >= 0 else { throw CMFError.format("optimiser step \(step) is negative") }
        var m: [String: Tensor] = [:], v: [String: Tensor] = [:]
        for (k, t) in tensors {
            if k.hasPrefix("adam.m.") { m[String(k.dropFirst(7))] = t }
            if k.hasPrefix("adam.v.") { v[String(k.dropFirst(7))] = t }
        }
        guard Set(m.keys) == Set(v.keys) else {
            throw CMFError.format("optimiser state: first and second moments name different parameters")
        }
        self.step = step
        self.m = m
        self.v = v
    }
}
