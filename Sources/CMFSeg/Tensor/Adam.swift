import CCMFKernels

/// Hyper-parameters of `torch.optim.Adam` (defaults: PyTorch's, except the learning rate,
/// the authors' 1e-4). Weight decay is L2 added to the gradient (not AdamW's decoupled decay).
public struct AdamOptions: Sendable, Equatable {
    /// Step size, > 0.
    public var learningRate: Float = 1e-4
    /// Decay of the first moment, in [0, 1).
    public var beta1: Float = 0.9
    /// Decay of the second moment, in [0, 1).
    public var beta2: Float = 0.999
    /// Added to the denominator, > 0.
    public var eps: Float = 1e-8
    /// L2 penalty: `weightDecay * param` is added to the gradient, >= 0.
    public var weightDecay: Float = 0

    public init(learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    /// - Throws: `CMFError.invalidArgument` naming the first value out of its range.
    public func validate() throws {
        guard learningRate > 0, learningRate.isFinite else {
            throw CMFError.invalidArgument("Adam learning rate \(learningRate) must be > 0")
        }
        guard beta1 >= 0, beta1 < 1 else { throw CMFError.invalidArgument("Adam beta1 \(beta1) must be in [0, 1)") }
        guard beta2 >= 0, beta2 < 1 else { throw CMFError.invalidArgument("Adam beta2 \(beta2) must be in [0, 1)") }
        guard eps > 0, eps.isFinite else { throw CMFError.invalidArgument("Adam eps \(eps) must be > 0") }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw CMFError.invalidArgument("Adam weight decay \(weightDecay) must be >= 0")
        }
    }
}

/// The Adam optimiser, one tensor at a time; the moments live with the caller.
public enum Adam {
    /// One torch.optim.Adam update of one tensor; step is 1-based.
    ///
    /// Exactly PyTorch's single-tensor CPU path (float32 tensors, the scalars computed in
    /// double as Python does, from the options' shortest decimal forms):
    /// `g = grad + wd·param; m = lerp(m, g, 1-β1); v = β2·v + (1-β2)·g²;
    /// param -= lr/(1-β1^step) · m / (√v / √(1-β2^step) + eps)`.
    /// - Parameters:
    ///   - param: the parameter tensor, updated in place.
    ///   - gradient: ∂L/∂param, the shape of `param`.
    ///   - m: the first moment, the shape of `param`, zeros before step 1; updated.
    ///   - v: the second moment, likewise.
    ///   - step: the number of this update counting from 1 (shared by all tensors of a model).
    /// - Throws: `CMFError.shape` for mismatched shapes, `.invalidArgument` for step < 1 or
    ///   options out of range.
    public static func update(_ param: inout Tensor, gradient: Tensor, m: inout Tensor, v: inout Tensor, step: Int,
                              options: AdamOptions, threads: Int) throws {
        guard gradient.shape == param.shape, m.shape == param.shape, v.shape == param.shape else {
            throw CMFError.shape("Adam: parameter \(param.shape), gradient \(gradient.shape), moments \(m.shape) and \(v.shape) must have one shape")
        }
        guard step >= 1 else { throw CMFError.invalidArgument("Adam step \(step) must be >= 1") }
        try options.validate()
        let count = param.count
        let rc = param.storage.withUnsafeMutableBufferPointer { p in
            gradient.storage.withUnsafeBufferPointer { g in
                m.storage.withUnsafeMutableBufferPointer { mm in
                    v.storage.withUnsafeMutableBufferPointer { vv in
                        cmfk_adam_f32(p.baseAddress, g.baseAddress, mm.baseAddress, vv.baseAddress, Int64(count),
                                      options.learningRate, options.beta1, options.beta2, options.eps,
                                      options.weightDecay, Int64(step), Int32(clamping: threads))
                    }
                }
            }
        }
        try kernelCheck(rc, "Adam")
    }
}
