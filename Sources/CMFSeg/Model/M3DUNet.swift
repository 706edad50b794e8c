/// The authors' 3-D U-Net (`M3DUNet`): the CMFT generator, each CMFF branch, and the
/// single-pair and 4-modality baselines. Five levels of two `CNL` blocks, max-pool 2 down,
/// trilinear ×2 (align_corners) up, skip concatenation `cat(up(deeper), skip)`, a 1×1×1
/// head `conv_last` (F → classes). Spatial sizes must be multiples of 16.
public struct M3DUNet: Sendable {
    /// Block names in forward order (PyTorch module names `conv_norm_lrelu_<id>`).
    public static let blockIDs = ["11", "12", "21", "22", "31", "32", "41", "42", "51", "52",
                                  "43", "44", "33", "34", "23", "24", "13", "14"]

    /// The blocks in `blockIDs` order.
    public var blocks: [CNL]
    public var convLast: Conv3d
    public var baseFilters: Int
    public var inChannels: Int { blocks[0].conv.inChannels }
    public var outChannels: Int { convLast.outChannels }
    public var leakySlope: Float

    /// What one forward pass yields.
    public struct Output: Sendable {
        /// `conv_last` output (before any softmax), `[N, classes, D, H, W]`.
        public var logits: Tensor
        /// Output of the up-1 level (F channels, full resolution).
        public var x1: Tensor
        /// Output of the up-2 level (F channels, half resolution).
        public var x2: Tensor
    }

    /// (in, out) channels of each block for base width `f` and `cin` input channels.
    static func channels(_ id: String, f: Int, cin: Int) -> (Int, Int) {
        switch id {
        case "11": return (cin, f)
        case "12": return (f, f)
        case "21": return (f, 2 * f)
        case "22": return (2 * f, 2 * f)
        case "31": return (2 * f, 4 * f)
        case "32": return (4 * f, 4 * f)
        case "41": return (4 * f, 8 * f)
        case "42": return (8 * f, 8 * f)
        case "51": return (8 * f, 16 * f)
        case "52": return (16 * f, 8 * f)
        case "43": return (16 * f, 8 * f)
        case "44": return (8 * f, 4 * f)
        case "33": return (8 * f, 4 * f)
        case "34": return (4 * f, 2 * f)
        case "23": return (4 * f, 2 * f)
        case "24": return (2 * f, f)
        case "13": return (2 * f, f)
        default: return (f, f) // "14"
        }
    }

    /// Loads the tensors `<prefix>conv_norm_lrelu_*.0.*` and `<prefix>conv_last.*`; the base
    /// width and channel counts come from the tensor shapes and are all cross-checked.
    /// - Parameters:
    ///   - inChannels / outChannels: required values, or nil to take them from the shapes.
    static func load(_ r: WeightReader, prefix: String, inChannels: Int?, outChannels: Int?, slope: Float) throws -> M3DUNet {
        let first = try r.tensor(prefix + "conv_norm_lrelu_11.0.weight", [nil, inChannels, 3, 3, 3])
        let f = first.shape[0], cin = first.shape[1]
        let blocks = try blockIDs.map { id in
            let (i, o) = channels(id, f: f, cin: cin)
            return try r.cnl(prefix + "conv_norm_lrelu_\(id)", in: i, out: o, slope: slope)
        }
        let last = try r.conv(prefix + "conv_last", in: f, out: outChannels, kernel: 1, geometry: ConvolutionGeometry())
        return M3DUNet(blocks: blocks, convLast: last, baseFilters: f, leakySlope: slope)
    }

    /// The forward pass. Intermediates are released as soon as the next level no longer needs them.
    /// - Throws: `CMFError.shape` if the input is not `[N, inChannels, D, H, W]` with D, H, W
    ///   multiples of 16.
    public func forward(_ x: Tensor, _ ctx: ForwardContext) throws -> Output {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }  // activations reused, not page-faulted again
        try checkInput(x)
        func b(_ id: String, _ t: Tensor) throws -> Tensor {
            try ctx.checkCancelled()
            return try blocks[Self.blockIDs.firstIndex(of: id)!].forward(t, ctx)
        }
        let t = ctx.threads
        let e1 = try b("12", b("11", x))
        let e2 = try b("22", b("21", e1.maxPool2(threads: t)))
        let e3 = try b("32", b("31", e2.maxPool2(threads: t)))
        var u = try b("42", b("41", e3.maxPool2(threads: t)))      // e4
        let e5 = try b("52", b("51", u.maxPool2(threads: t)))
        u = try b("44", b("43", Tensor.concatChannels([e5.upsample2(threads: t), u], threads: t)))
        u = try b("34", b("33", Tensor.concatChannels([u.upsample2(threads: t), e3], threads: t)))
        let x2 = try b("24", b("23", Tensor.concatChannels([u.upsample2(threads: t), e2], threads: t)))
        let x1 = try b("14", b("13", Tensor.concatChannels([x2.upsample2(threads: t), e1], threads: t)))
        let logits = try convLast.forward(x1, ctx)
        return Output(logits: logits, x1: x1, x2: x2)
    }

    /// Floating-point work of one forward pass on spatial size `spatial` (2 FLOP per multiply-add).
    public func flops(spatial: [Int]) -> Double {
        var total = 0.0
        for (id, block) in zip(Self.blockIDs, blocks) {
            let level = Int(String(id.first!))! - 1
            let s = spatial.map { $0 >> level }
            total += block.conv.flops(outputSpatial: s)
        }
        return total + convLast.flops(outputSpatial: spatial)
    }
}
