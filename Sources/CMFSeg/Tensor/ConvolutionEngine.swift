/// Stride and padding of a 3-D convolution (the kernel size comes from the weight shape).
/// Zero padding, the same on every side and axis; groups 1, dilation 1 (all the networks need).
public struct ConvolutionGeometry: Sendable, Equatable {
    public var stride: Int
    public var padding: Int

    public init(stride: Int = 1, padding: Int = 0) {
        self.stride = stride
        self.padding = padding
    }

    /// Output spatial sizes for input sizes `spatial` and kernel sizes `kernel`.
    /// - Throws: `CMFError.shape` if the padded input is smaller than the kernel.
    public func outputSpatial(input spatial: [Int], kernel: [Int]) throws -> [Int] {
        guard stride > 0, padding >= 0 else {
            throw CMFError.invalidArgument("convolution stride \(stride) / padding \(padding) not allowed")
        }
        return try zip(spatial, kernel).map { s, k in
            guard s + 2 * padding >= k else {
                throw CMFError.shape("convolution input size \(spatial) is smaller than kernel \(kernel) (padding \(padding))")
            }
            return (s + 2 * padding - k) / stride + 1
        }
    }
}

/// The one interface through which every model runs its convolutions, so the engine
/// (naive oracle, oneDNN, own kernels, …) can change without touching model code.
///
/// Contract of `forward`: PyTorch's `Conv3d` (cross-correlation): `input` `[N, Cin, D, H, W]`,
/// `weight` `[Cout, Cin, kD, kH, kW]`, `bias` `[Cout]` or nil, result `[N, Cout, D', H', W']`.
/// Engines are stateless from the caller's view and safe to call from several threads.
///
/// The training issue adds `backwardData` (∂L/∂input from ∂L/∂output) and `backwardWeights`
/// (∂L/∂weight, ∂L/∂bias) with the same arguments; they belong here, next to `forward`.
public protocol ConvolutionEngine: Sendable {
    /// A short name for logs and benchmarks (e.g. `naive`, `onednn`).
    var name: String { get }

    /// - Parameter threads: worker threads (`<= 0`: OpenMP's default).
    /// - Throws: `CMFError.shape` for inconsistent shapes, `.outOfMemory`, `.internal`.
    func forward(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                 threads: Int) throws -> Tensor

    /// `forward` followed by instance normalisation (no affine, `eps`) and leaky ReLU
    /// (`slope`) — the `CNL` block — which an engine may fuse. The default runs them one
    /// after the other. (Training needs the pre-norm output and uses `forward`.)
    func forwardInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                      eps: Float, slope: Float, threads: Int) throws -> Tensor
}

extension ConvolutionEngine {
    public func forwardInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                             eps: Float, slope: Float, threads: Int) throws -> Tensor {
        var y = try forward(input, weight: weight, bias: bias, geometry: geometry, threads: threads)
        try y.instanceNormLeakyReLU(eps: eps, slope: slope, threads: threads)
        return y
    }
}

/// Checks the shapes of a convolution call and returns the output shape (shared by engines).
func convolutionOutputShape(input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry) throws -> [Int] {
    let (n, c, d, h, w) = try input.dims5("convolution input")
    let (o, wc, kd, kh, kw) = try weight.dims5("convolution weight")
    guard wc == c else {
        throw CMFError.shape("convolution weight \(weight.shape) expects \(wc) input channels, input \(input.shape) has \(c)")
    }
    if let bias, bias.shape != [o] {
        throw CMFError.shape("convolution bias: expected shape [\(o)], got \(bias.shape)")
    }
    let out = try geometry.outputSpatial(input: [d, h, w], kernel: [kd, kh, kw])
    return [n, o] + out
}
