/// The layers of the networks. Each holds its parameters and has a `forward`;
/// `Layers+Training.swift` adds the backward of each (the convolution's goes through
/// `ConvolutionEngine`).

/// 3-D convolution with bias (PyTorch `Conv3d`, groups 1): weight `[out, in, k, k, k]`.
public struct Conv3d: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var geometry: ConvolutionGeometry

    public init(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry) {
        self.weight = weight
        self.bias = bias
        self.geometry = geometry
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }

    /// Multiply-adds ×2 for an input of spatial size `spatial` (for benchmarks).
    public func flops(outputSpatial: [Int]) -> Double {
        2 * Double(weight.count) * Double(outputSpatial.reduce(1, *))
    }

    public func forward(_ x: Tensor, _ ctx: ForwardContext) throws -> Tensor {
        try ctx.engine.forward(x, weight: weight, bias: bias, geometry: geometry, threads: ctx.threads)
    }
}

/// Instance normalisation without affine parameters (PyTorch `InstanceNorm3d` defaults):
/// per sample and channel, mean and biased variance over the spatial axes, `eps` 1e-5.
public struct InstanceNorm3d: Sendable {
    public var eps: Float = 1e-5
    public init(eps: Float = 1e-5) { self.eps = eps }

    public func forward(_ x: inout Tensor, _ ctx: ForwardContext) throws {
        try x.instanceNormLeakyReLU(eps: eps, slope: 1, threads: ctx.threads)
    }
}

/// Leaky ReLU with negative slope `slope` (PyTorch default 0.01; the authors' GAN uses 0.2).
public struct LeakyReLU: Sendable {
    public var slope: Float
    public init(slope: Float) { self.slope = slope }

    public func forward(_ x: inout Tensor, _ ctx: ForwardContext) throws {
        try x.leakyReLU(slope: slope, threads: ctx.threads)
    }
}

/// The `conv_norm_lrelu` block: Conv3d (3×3×3 s1 p1, or the discriminator's 4×4×4 s2 p1) →
/// InstanceNorm3d → LeakyReLU. The engine may fuse all three
/// (`ConvolutionEngine.forwardInstanceNormLeakyReLU`); norm and activation are one pass anyway.
public struct CNL: Sendable {
    public var conv: Conv3d
    public var norm: InstanceNorm3d
    public var activation: LeakyReLU

    public init(conv: Conv3d, norm: InstanceNorm3d = InstanceNorm3d(), activation: LeakyReLU) {
        self.conv = conv
        self.norm = norm
        self.activation = activation
    }

    public func forward(_ x: Tensor, _ ctx: ForwardContext) throws -> Tensor {
        try ctx.engine.forwardInstanceNormLeakyReLU(x, weight: conv.weight, bias: conv.bias, geometry: conv.geometry,
                                                    eps: norm.eps, slope: activation.slope, threads: ctx.threads)
    }
}
