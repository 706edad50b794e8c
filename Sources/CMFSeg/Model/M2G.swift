import CCMFKernels

/// The CMFF model (`M2G`): two `M3DUNet` branches (pair A → `net_0`, pair B → `net_1`) and
/// the fusion branch: `xx1 = CNL(cat(x1₀, x1₁))`, `xx2 = up(CNL(cat(x2₀, x2₁)))`,
/// `xx = CNL(cat(xx1, xx2))`; mask guidance `M = softmax₀ + softmax₁`,
/// `cat_c(xx · M[c])` (4F channels); `conv_last` 1×1×1 → softmax.
/// With `maskGuided == false` it is the authors' `M2` ablation (`conv_last` F → classes on xx).
public struct M2G: Sendable {
    public var net0: M3DUNet
    public var net1: M3DUNet
    public var convNL1: CNL
    public var convNL2: CNL
    public var convNLF: CNL
    public var convLast: Conv3d
    public var maskGuided: Bool

    /// Softmax outputs of both branches and of the fusion, `[N, classes, D, H, W]`.
    public struct Output: Sendable {
        public var s0: Tensor
        public var s1: Tensor
        public var fused: Tensor
    }

    static func load(_ r: WeightReader, slope: Float) throws -> M2G {
        let net0 = try M3DUNet.load(r, prefix: "net_0.", inChannels: nil, outChannels: nil, slope: slope)
        let net1 = try M3DUNet.load(r, prefix: "net_1.", inChannels: net0.inChannels, outChannels: net0.outChannels, slope: slope)
        let f = net0.baseFilters
        guard net1.baseFilters == f else {
            throw CMFError.shape("\(r.set.sourceDescription): branch widths differ (net_0 \(f), net_1 \(net1.baseFilters))")
        }
        let classes = net0.outChannels
        let nl1 = try r.cnl("conv_nl_1", in: 2 * f, out: f, slope: slope)
        let nl2 = try r.cnl("conv_nl_2", in: 2 * f, out: f, slope: slope)
        let nlf = try r.cnl("conv_nl_f", in: 2 * f, out: f, slope: slope)
        let lastIn = r.set.tensors["conv_last.weight"]?.shape.dropFirst().first
        let masked = lastIn != f   // M2G: classes*F inputs; M2: F
        let last = try r.conv("conv_last", in: masked ? classes * f : f, out: classes, kernel: 1, geometry: ConvolutionGeometry())
        return M2G(net0: net0, net1: net1, convNL1: nl1, convNL2: nl2, convNLF: nlf, convLast: last, maskGuided: masked)
    }

    public var classCount: Int { convLast.outChannels }

    /// One branch alone as a segmenter: softmax of its logits.
    public static func branchSoftmax(_ net: M3DUNet, _ x: Tensor, _ ctx: ForwardContext) throws -> Tensor {
        var s = try net.forward(x, ctx).logits
        try s.softmaxChannels(threads: ctx.threads)
        return s
    }

    /// - Parameters: x0 pair-A input `[N, 2, D, H, W]`, x1 pair-B input of the same shape.
    public func forward(_ x0: Tensor, _ x1: Tensor, _ ctx: ForwardContext) throws -> Output {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }  // activations reused, not page-faulted again
        guard x0.shape == x1.shape else {
            throw CMFError.shape("CMFF inputs differ in shape: \(x0.shape) vs \(x1.shape)")
        }
        let t = ctx.threads
        var o0: M3DUNet.Output? = try net0.forward(x0, ctx)
        var o1: M3DUNet.Output? = try net1.forward(x1, ctx)
        var s0 = o0!.logits, s1 = o1!.logits
        try s0.softmaxChannels(threads: t)
        try s1.softmaxChannels(threads: t)
        try ctx.checkCancelled()
        var xx1: Tensor? = try convNL1.forward(Tensor.concatChannels([o0!.x1, o1!.x1], threads: t), ctx)
        var xx2: Tensor? = try convNL2.forward(Tensor.concatChannels([o0!.x2, o1!.x2], threads: t), ctx).upsample2(threads: t)
        o0 = nil
        o1 = nil
        var xx: Tensor? = try convNLF.forward(Tensor.concatChannels([xx1!, xx2!], threads: t), ctx)
        xx1 = nil
        xx2 = nil
        var fused = try headLogits(xx!, s0, s1, ctx)
        xx = nil
        try fused.softmaxChannels(threads: t)
        return Output(s0: s0, s1: s1, fused: fused)
    }

    /// `conv_last` of the head: on `cat_c(xx · M[c])` with `M = s₀ + s₁` when mask-guided
    /// (computed as `Σ_c M[c] · (W_c xx)` by one kernel, so the 4F-channel head is never
    /// built), on `xx` otherwise.
    func headLogits(_ xx: Tensor, _ s0: Tensor, _ s1: Tensor, _ ctx: ForwardContext) throws -> Tensor {
        guard maskGuided else { return try convLast.forward(xx, ctx) }
        let (n, f, d, h, w) = try xx.dims5("head features")
        let c = classCount
        guard s0.shape == [n, c, d, h, w], s1.shape == s0.shape, convLast.inChannels == c * f else {
            throw CMFError.shape("mask-guided head: features \(xx.shape), masks \(s0.shape) and \(s1.shape), conv_last \(convLast.weight.shape) do not fit")
        }
        let plane = d * h * w
        var out = Tensor(uninitializedShape: [n, c, d, h, w])
        let bias = convLast.bias.map { b in b.storage.withUnsafeBufferPointer { Array($0) } }
            ?? [Float](repeating: 0, count: c)
        var rc: Int32 = 0
        xx.storage.withUnsafeBufferPointer { x in
            s0.storage.withUnsafeBufferPointer { a in
                s1.storage.withUnsafeBufferPointer { b in
                    convLast.weight.storage.withUnsafeBufferPointer { wt in
                        out.storage.withUnsafeMutableBufferPointer { o in
                            for s in 0..<n where rc == 0 {
                                rc = cmfk_masked_head_f32(x.baseAddress! + s * f * plane, Int64(f),
                                                          a.baseAddress! + s * c * plane, b.baseAddress! + s * c * plane,
                                                          Int64(c), Int64(plane), wt.baseAddress, bias,
                                                          o.baseAddress! + s * c * plane, Int32(clamping: ctx.threads))
                            }
                        }
                    }
                }
            }
        }
        try kernelCheck(rc, "mask-guided head")
        return out
    }

    public func flops(spatial: [Int]) -> Double {
        var total = net0.flops(spatial: spatial) + net1.flops(spatial: spatial)
        total += convNL1.conv.flops(outputSpatial: spatial) + convNLF.conv.flops(outputSpatial: spatial)
        total += convNL2.conv.flops(outputSpatial: spatial.map { $0 / 2 })
        return total + convLast.flops(outputSpatial: spatial)
    }
}
