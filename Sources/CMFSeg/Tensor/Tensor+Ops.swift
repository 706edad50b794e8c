import CCMFKernels

/// The element-wise, resampling and joining operations of the networks. Each takes the
/// thread count (`<= 0`: OpenMP's default) and returns a new tensor (or works in place
/// where the name says so). All expect 5-D `[N, C, D, H, W]` tensors.
extension Tensor {
    /// Instance normalisation (no affine, mean and biased variance per sample and channel,
    /// `eps` added to the variance, as PyTorch's `InstanceNorm3d`) followed by leaky ReLU,
    /// in place, in one fused pass. `slope` 1 gives the normalisation alone.
    public mutating func instanceNormLeakyReLU(eps: Float = 1e-5, slope: Float, threads: Int) throws {
        let (n, c, _, _, _) = try dims5("instance norm input")
        let plane = planeCount
        let rc = storage.withUnsafeMutableBufferPointer {
            cmfk_instnorm_lrelu_f32($0.baseAddress, Int64(n * c), Int64(plane), eps, slope, Int32(clamping: threads))
        }
        try kernelCheck(rc, "instance norm")
    }

    /// `instanceNormLeakyReLU` for training (the same kernel, the same result), returning the
    /// `1/sqrt(var + eps)` of every (sample, channel), index `n * C + c`, which
    /// `instanceNormLeakyReLUBackward` needs.
    public mutating func instanceNormLeakyReLUTraining(eps: Float = 1e-5, slope: Float, threads: Int) throws -> [Float] {
        let (n, c, _, _, _) = try dims5("instance norm input")
        let plane = planeCount
        var invStd = [Float](repeating: 0, count: n * c)
        let rc = storage.withUnsafeMutableBufferPointer { x in
            invStd.withUnsafeMutableBufferPointer { inv in
                cmfk_instnorm_lrelu_train_f32(x.baseAddress, Int64(n * c), Int64(plane), eps, slope, inv.baseAddress,
                                              Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "instance norm")
        return invStd
    }

    /// Leaky ReLU in place: `x < 0 ? slope*x : x`.
    public mutating func leakyReLU(slope: Float, threads: Int) throws {
        let count = storage.count
        let rc = storage.withUnsafeMutableBufferPointer {
            cmfk_lrelu_f32($0.baseAddress, Int64(count), slope, Int32(clamping: threads))
        }
        try kernelCheck(rc, "leaky ReLU")
    }

    /// Max-pool with kernel 2, stride 2 (odd sizes floor, as PyTorch).
    public func maxPool2(threads: Int) throws -> Tensor {
        let (n, c, d, h, w) = try dims5("max-pool input")
        guard d >= 2, h >= 2, w >= 2 else { throw CMFError.shape("max-pool input \(shape) is smaller than 2") }
        var out = Tensor(uninitializedShape: [n, c, d / 2, h / 2, w / 2])
        let rc = storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                cmfk_maxpool2_f32(src.baseAddress, Int64(n * c), Int64(d), Int64(h), Int64(w), dst.baseAddress, Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "max-pool")
        return out
    }

    /// Trilinear up-sampling by 2 on each spatial axis, `align_corners=True`.
    public func upsample2(threads: Int) throws -> Tensor {
        let (n, c, d, h, w) = try dims5("up-sampling input")
        var out = Tensor(uninitializedShape: [n, c, 2 * d, 2 * h, 2 * w])
        let rc = storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                cmfk_upsample2_trilinear_f32(src.baseAddress, Int64(n * c), Int64(d), Int64(h), Int64(w), dst.baseAddress, Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "up-sampling")
        return out
    }

    /// Softmax over the channel axis, in place.
    public mutating func softmaxChannels(threads: Int) throws {
        let (n, c, _, _, _) = try dims5("softmax input")
        let plane = planeCount
        let rc = storage.withUnsafeMutableBufferPointer {
            cmfk_softmax_channels_f32($0.baseAddress, Int64(n), Int64(c), Int64(plane), $0.baseAddress, Int32(clamping: threads))
        }
        try kernelCheck(rc, "softmax")
    }

    /// Concatenation along channels: `[N, C1, ...]`, `[N, C2, ...]`, … → `[N, C1+C2+…, ...]`.
    /// - Throws: `CMFError.shape` if the batch or spatial sizes differ.
    /// - Parameter threads: copy threads (≤ 0: OpenMP's default).
    public static func concatChannels(_ parts: [Tensor], threads: Int = 1) throws -> Tensor {
        guard let first = parts.first else { throw CMFError.shape("concatenation of no tensors") }
        let (n, _, d, h, w) = try first.dims5("concatenation input")
        var channels = 0
        for p in parts {
            let (pn, pc, pd, ph, pw) = try p.dims5("concatenation input")
            guard pn == n, pd == d, ph == h, pw == w else {
                throw CMFError.shape("cannot concatenate shapes \(first.shape) and \(p.shape) along channels")
            }
            channels += pc
        }
        let plane = d * h * w
        var out = Tensor(uninitializedShape: [n, channels, d, h, w])
        out.storage.withUnsafeMutableBufferPointer { dst in
            var at = 0
            for s in 0..<n {
                for p in parts {
                    let per = p.shape[1] * plane
                    p.storage.withUnsafeBufferPointer { src in
                        _ = cmfk_copy_f32(dst.baseAddress! + at, src.baseAddress! + s * per, Int64(per), Int32(clamping: threads))
                    }
                    at += per
                }
            }
        }
        return out
    }

    /// Channel-broadcast multiply: every channel of `self` times channel `channel` of `mask`
    /// (same N and spatial size), i.e. `x * m[:, channel:channel+1]`.
    public func multipliedByChannel(_ channel: Int, of mask: Tensor, threads: Int) throws -> Tensor {
        let (n, c, d, h, w) = try dims5("multiply input")
        let (mn, mc, md, mh, mw) = try mask.dims5("mask")
        guard mn == n, md == d, mh == h, mw == w, channel >= 0, channel < mc else {
            throw CMFError.shape("cannot multiply \(shape) by channel \(channel) of \(mask.shape)")
        }
        let plane = d * h * w
        var out = Tensor(uninitializedShape: shape)
        var rc: Int32 = 0
        storage.withUnsafeBufferPointer { x in
            mask.storage.withUnsafeBufferPointer { m in
                out.storage.withUnsafeMutableBufferPointer { o in
                    for s in 0..<n where rc == 0 {
                        rc = cmfk_mul_channels_f32(x.baseAddress! + s * c * plane, Int64(c), Int64(plane),
                                                   m.baseAddress! + (s * mc + channel) * plane,
                                                   o.baseAddress! + s * c * plane, Int32(clamping: threads))
                    }
                }
            }
        }
        try kernelCheck(rc, "channel multiply")
        return out
    }

    /// Element-wise sum of two tensors of the same shape.
    public func adding(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else { throw CMFError.shape("cannot add shapes \(shape) and \(other.shape)") }
        var out = self
        out.storage.withUnsafeMutableBufferPointer { o in
            other.storage.withUnsafeBufferPointer { q in
                for i in 0..<o.count { o[i] += q[i] }
            }
        }
        return out
    }
}

/// Turns a kernel status (cmf_nn.h) into an error.
func kernelCheck(_ rc: Int32, _ op: String) throws {
    switch rc {
    case 0: return
    case -1: throw CMFError.outOfMemory("\(op): out of memory")
    case -2: throw CMFError.shape("\(op): sizes the kernel cannot take")
    case -3: throw CMFError.internal("\(op): oneDNN failed")
    default: throw CMFError.internal("\(op): kernel status \(rc)")
    }
}

extension Tensor {
    /// Every value times `factor`.
    public func scaled(by factor: Float) -> Tensor {
        var out = self
        out.storage.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= factor } }
        return out
    }
}
