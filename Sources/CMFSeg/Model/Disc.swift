/// The CMFT discriminator (`Disc(2, 1, 16)`, PatchGAN-like): `conv_1` 4×4×4 s2 p1 (no norm,
/// no activation, as in the authors' code) → `conv_n_l_{1,2,3}` (4×4×4 s2 p1 + IN + LReLU)
/// → `conv_2` 4×4×4 s1 p1 → patch scores (no activation).
public struct Disc: Sendable {
    public var conv1: Conv3d
    public var blocks: [CNL]
    public var conv2: Conv3d
    public var leakySlope: Float

    static func load(_ r: WeightReader, slope: Float) throws -> Disc {
        let down = ConvolutionGeometry(stride: 2, padding: 1)
        let c1 = try r.conv("conv_1", in: nil, out: nil, kernel: 4, geometry: down)
        var ch = c1.outChannels
        var blocks: [CNL] = []
        for k in 1...3 {
            let conv = try r.conv("conv_n_l_\(k).0", in: ch, out: nil, kernel: 4, geometry: down)
            ch = conv.outChannels
            blocks.append(CNL(conv: conv, activation: LeakyReLU(slope: slope)))
        }
        let c2 = try r.conv("conv_2", in: ch, out: nil, kernel: 4, geometry: ConvolutionGeometry(stride: 1, padding: 1))
        return Disc(conv1: c1, blocks: blocks, conv2: c2, leakySlope: slope)
    }

    public var inChannels: Int { conv1.inChannels }

    public func forward(_ x: Tensor, _ ctx: ForwardContext) throws -> Tensor {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }  // activations reused, not page-faulted again
        let (_, c, _, _, _) = try x.dims5("discriminator input")
        guard c == inChannels else {
            throw CMFError.shape("discriminator input has \(c) channels, the network takes \(inChannels)")
        }
        var y = try conv1.forward(x, ctx)
        for b in blocks { y = try b.forward(y, ctx) }
        return try conv2.forward(y, ctx)
    }
}
