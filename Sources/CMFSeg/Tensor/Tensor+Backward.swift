import CCMFKernels

/// The backward passes of the operations in `Tensor+Ops.swift`. Each reads what its forward
/// saved (its input, its output or the norm's 1/std) and ∂L/∂output, and returns ∂L/∂input as
/// a new tensor (gradients are never accumulated into arguments; use `add` for that). All take
/// the thread count (`<= 0`: OpenMP's default) and expect 5-D `[N, C, D, H, W]` tensors.
extension Tensor {
    /// Backward of `instanceNormLeakyReLU` (the `CNL` block's norm and activation).
    ///
    /// self = the CNL output y; returns ∂L/∂(pre-norm conv output).
    /// - Parameters:
    ///   - gradOutput: ∂L/∂y, the shape of `self`.
    ///   - invStd: the forward's `1/sqrt(var + eps)` per (sample, channel), `N*C` values
    ///     (from `instanceNormLeakyReLUTraining` or `forwardTrainingInstanceNormLeakyReLU`).
    ///   - slope: the forward's leaky-ReLU slope, > 0 (the pre-activation value is recovered
    ///     from y by dividing by it).
    /// - Throws: `CMFError.shape` for mismatched shapes or counts, `.invalidArgument` for slope <= 0.
    public func instanceNormLeakyReLUBackward(gradOutput: Tensor, invStd: [Float], slope: Float,
                                              threads: Int) throws -> Tensor {
        let (n, c, _, _, _) = try dims5("instance norm output")
        guard gradOutput.shape == shape else {
            throw CMFError.shape("instance norm backward: gradient \(gradOutput.shape) does not match output \(shape)")
        }
        guard invStd.count == n * c else {
            throw CMFError.shape("instance norm backward: \(invStd.count) 1/std values for \(n * c) (sample, channel) planes")
        }
        guard slope > 0 else {
            throw CMFError.invalidArgument("instance norm backward: leaky-ReLU slope \(slope) must be > 0")
        }
        let plane = planeCount
        // Out of place: the caller usually still holds gradOutput, so writing into a copy of
        // it would first copy it whole.
        var grad = Tensor(uninitializedShape: shape)
        let rc = storage.withUnsafeBufferPointer { y in
            invStd.withUnsafeBufferPointer { inv in
                gradOutput.storage.withUnsafeBufferPointer { gy in
                    grad.storage.withUnsafeMutableBufferPointer { g in
                        cmfk_instnorm_lrelu_backward_f32(y.baseAddress, gy.baseAddress, Int64(n * c), Int64(plane),
                                                         inv.baseAddress, slope, g.baseAddress, Int32(clamping: threads))
                    }
                }
            }
        }
        try kernelCheck(rc, "instance norm backward")
        return grad
    }

    /// Backward of `maxPool2`: each output gradient goes to its window's maximum (found again
    /// as PyTorch does: first maximum in z, y, x order; a NaN wins); 0 elsewhere, including
    /// the rows an odd size leaves out.
    ///
    /// self = the max-pool INPUT.
    /// - Parameter gradOutput: ∂L/∂output, `[N, C, D/2, H/2, W/2]`.
    /// - Returns: ∂L/∂input, the shape of `self`.
    public func maxPool2Backward(gradOutput: Tensor, threads: Int) throws -> Tensor {
        let (n, c, d, h, w) = try dims5("max-pool input")
        guard d >= 2, h >= 2, w >= 2 else { throw CMFError.shape("max-pool input \(shape) is smaller than 2") }
        guard gradOutput.shape == [n, c, d / 2, h / 2, w / 2] else {
            throw CMFError.shape("max-pool backward: gradient \(gradOutput.shape) does not match input \(shape) (expected \([n, c, d / 2, h / 2, w / 2]))")
        }
        var grad = Tensor(uninitializedShape: shape)
        let rc = storage.withUnsafeBufferPointer { x in
            gradOutput.storage.withUnsafeBufferPointer { g in
                grad.storage.withUnsafeMutableBufferPointer { gi in
                    cmfk_maxpool2_backward_f32(x.baseAddress, Int64(n * c), Int64(d), Int64(h), Int64(w), g.baseAddress,
                                               gi.baseAddress, Int32(clamping: threads))
                }
            }
        }
        try kernelCheck(rc, "max-pool backward")
        return grad
    }

    /// Backward of `upsample2` (the adjoint of trilinear ×2, `align_corners=True`).
    ///
    /// self = gradient w.r.t. the up-sampled output [N,C,2D,2H,2W]; returns [N,C,D,H,W].
    /// - Throws: `CMFError.shape` if a spatial size is odd.
    public func upsample2Backward(threads: Int) throws -> Tensor {
        let (n, c, d2, h2, w2) = try dims5("up-sampling output gradient")
        guard d2 % 2 == 0, h2 % 2 == 0, w2 % 2 == 0 else {
            throw CMFError.shape("up-sampling backward: gradient \(shape) has an odd spatial size")
        }
        let (d, h, w) = (d2 / 2, h2 / 2, w2 / 2)
        var grad = Tensor(uninitializedShape: [n, c, d, h, w])
        let rc = storage.withUnsafeBufferPointer { g in
            grad.storage.withUnsafeMutableBufferPointer { gi in
                cmfk_upsample2_trilinear_backward_f32(g.baseAddress, Int64(n * c), Int64(d), Int64(h), Int64(w),
                                                      gi.baseAddress, Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "up-sampling backward")
        return grad
    }

    /// Backward of `softmaxChannels`: `s * (g - Σ_k g_k s_k)` per voxel.
    ///
    /// self = softmax output s; returns ∂L/∂logits.
    /// - Parameter gradOutput: ∂L/∂s, the shape of `self`.
    public func softmaxChannelsBackward(gradOutput: Tensor, threads: Int) throws -> Tensor {
        let (n, c, _, _, _) = try dims5("softmax output")
        guard gradOutput.shape == shape else {
            throw CMFError.shape("softmax backward: gradient \(gradOutput.shape) does not match output \(shape)")
        }
        let plane = planeCount
        var grad = gradOutput
        let rc = storage.withUnsafeBufferPointer { s in
            grad.storage.withUnsafeMutableBufferPointer { g in
                cmfk_softmax_channels_backward_f32(s.baseAddress, g.baseAddress, Int64(n), Int64(c), Int64(plane),
                                                   g.baseAddress, Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "softmax backward")
        return grad
    }

    /// Backward of `multipliedByChannel(channel, of: mask)` (self = x): (∂L/∂x, ∂L/∂mask[:, channel]) — the second as a [N,1,D,H,W] tensor.
    ///
    /// ∂L/∂x = gradOutput · mask[:, channel]; ∂L/∂mask[:, channel] = Σ over x's channels of
    /// gradOutput · x. The mask's other channels get no gradient from this product.
    /// - Parameter gradOutput: ∂L/∂output, the shape of `self`.
    public func multipliedByChannelBackward(_ channel: Int, of mask: Tensor, gradOutput: Tensor,
                                            threads: Int) throws -> (x: Tensor, maskChannel: Tensor) {
        let (n, c, d, h, w) = try dims5("multiply input")
        let (mn, mc, md, mh, mw) = try mask.dims5("mask")
        guard mn == n, md == d, mh == h, mw == w, channel >= 0, channel < mc else {
            throw CMFError.shape("channel multiply backward: cannot multiply \(shape) by channel \(channel) of \(mask.shape)")
        }
        guard gradOutput.shape == shape else {
            throw CMFError.shape("channel multiply backward: gradient \(gradOutput.shape) does not match input \(shape)")
        }
        let plane = d * h * w
        var gx = Tensor(uninitializedShape: shape)
        var gm = Tensor(uninitializedShape: [n, 1, d, h, w])
        var rc: Int32 = 0
        storage.withUnsafeBufferPointer { x in
            mask.storage.withUnsafeBufferPointer { m in
                gradOutput.storage.withUnsafeBufferPointer { g in
                    gx.storage.withUnsafeMutableBufferPointer { ox in
                        gm.storage.withUnsafeMutableBufferPointer { om in
                            for s in 0..<n where rc == 0 {
                                rc = cmfk_mul_channels_backward_f32(x.baseAddress! + s * c * plane, Int64(c), Int64(plane),
                                                                    m.baseAddress! + (s * mc + channel) * plane,
                                                                    g.baseAddress! + s * c * plane,
                                                                    ox.baseAddress! + s * c * plane,
                                                                    om.baseAddress! + s * plane, Int32(clamping: threads))
                            }
                        }
                    }
                }
            }
        }
        try kernelCheck(rc, "channel multiply backward")
        return (gx, gm)
    }

    /// In-place element-wise add (accumulates gradients): `self += other`.
    /// - Throws: `CMFError.shape` unless the shapes are equal.
    public mutating func add(_ other: Tensor, threads: Int = 0) throws {
        guard shape == other.shape else { throw CMFError.shape("cannot add shape \(other.shape) to \(shape)") }
        let count = storage.count
        let rc = storage.withUnsafeMutableBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                cmfk_add_f32(a.baseAddress, b.baseAddress, Int64(count), Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "add")
    }

    /// Σ x² over every value, accumulated in double (gradient norms for clipping).
    public func sumOfSquares(threads: Int) throws -> Double {
        var out = 0.0
        let count = storage.count
        let rc = storage.withUnsafeBufferPointer { cmfk_sum_squares_f32($0.baseAddress, Int64(count), &out, Int32(clamping: threads)) }
        try kernelCheck(rc, "sum of squares")
        return out
    }
}
