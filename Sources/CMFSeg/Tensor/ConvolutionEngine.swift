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

/// The arithmetic of inference convolutions. `bf16` rounds each convolution's input and
/// weights to bfloat16 (8 significant bits) and accumulates in f32; normalisation,
/// activations and everything between layers stay f32. Training always computes in f32.
public enum ConvolutionPrecision: String, CaseIterable, Sendable {
    case f32
    case bf16
}

/// The one interface through which every model runs its convolutions, so the engine
/// (naive oracle, oneDNN, own kernels, …) can change without touching model code.
///
/// Contract of `forward`: PyTorch's `Conv3d` (cross-correlation): `input` `[N, Cin, D, H, W]`,
/// `weight` `[Cout, Cin, kD, kH, kW]`, `bias` `[Cout]` or nil, result `[N, Cout, D', H', W']`.
/// Engines are stateless from the caller's view and safe to call from several threads.
///
/// Training adds `backwardData` (∂L/∂input from ∂L/∂output), `backwardWeights` (∂L/∂weight,
/// ∂L/∂bias) and `forwardTrainingInstanceNormLeakyReLU` (the `CNL` forward that also returns
/// what its backward needs). Gradients are returned, never accumulated into the arguments.
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

    /// ∂L/∂input of `forward`: `gradOutput` `[N, Cout, D', H', W']` (∂L/∂output), `weight`
    /// `[Cout, Cin, kD, kH, kW]`, `inputShape` the forward's input shape `[N, Cin, D, H, W]`.
    /// Input voxels no output reads (stride 2 where the forward's size floors) get 0.
    /// - Returns: a tensor of shape `inputShape`.
    /// - Throws: `CMFError.shape` when the shapes do not belong to one convolution,
    ///   `.outOfMemory`, `.internal`.
    func backwardData(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int], geometry: ConvolutionGeometry,
                      threads: Int) throws -> Tensor

    /// ∂L/∂weight and ∂L/∂bias of `forward`, summed over the batch: `input` the forward's
    /// input, `gradOutput` ∂L/∂output, `weightShape` `[Cout, Cin, kD, kH, kW]`.
    /// - Returns: the weight gradient (shape `weightShape`) and, when `withBias`, the bias
    ///   gradient `[Cout]` (else nil).
    /// - Throws: as `backwardData`.
    func backwardWeights(_ input: Tensor, gradOutput: Tensor, weightShape: [Int], withBias: Bool,
                         geometry: ConvolutionGeometry, threads: Int) throws -> (weight: Tensor, bias: Tensor?)

    /// The CNL forward for training: same output as forwardInstanceNormLeakyReLU plus 1/std per (sample, channel).
    ///
    /// `invStd[n * Cout + c]` is the `1/sqrt(var + eps)` the normalisation used for sample `n`,
    /// channel `c`; with the output it is all `Tensor.instanceNormLeakyReLUBackward` needs
    /// (the pre-norm convolution output is not kept). The default runs `forward` then the
    /// training norm kernel (bit for bit the default `forwardInstanceNormLeakyReLU`).
    func forwardTrainingInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?,
                                              geometry: ConvolutionGeometry, eps: Float, slope: Float,
                                              threads: Int) throws -> (output: Tensor, invStd: [Float])

    /// This engine computing inference convolutions in `precision`.
    /// - Throws: `CMFError.unsupported` when the engine has no such arithmetic (the default
    ///   has f32 only).
    func with(precision: ConvolutionPrecision) throws -> any ConvolutionEngine
}

extension ConvolutionEngine {
    public func with(precision: ConvolutionPrecision) throws -> any ConvolutionEngine {
        guard precision == .f32 else {
            throw CMFError.unsupported("the \(name) convolution engine computes in f32 only; \(precision.rawValue) needs the onednn engine")
        }
        return self
    }

    public func forwardInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                             eps: Float, slope: Float, threads: Int) throws -> Tensor {
        var y = try forward(input, weight: weight, bias: bias, geometry: geometry, threads: threads)
        try y.instanceNormLeakyReLU(eps: eps, slope: slope, threads: threads)
        return y
    }

    public func forwardTrainingInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?,
                                                     geometry: ConvolutionGeometry, eps: Float, slope: Float,
                                                     threads: Int) throws -> (output: Tensor, invStd: [Float]) {
        var y = try forward(input, weight: weight, bias: bias, geometry: geometry, threads: threads)
        let invStd = try y.instanceNormLeakyReLUTraining(eps: eps, slope: slope, threads: threads)
        return (y, invStd)
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

/// The sizes of one convolution's backward pass, checked: gradient of the output
/// `[N, Cout, D', H', W']`, weight `[Cout, Cin, kD, kH, kW]` and input `[N, Cin, D, H, W]`
/// must belong to one `forward` with `geometry`.
struct ConvolutionBackwardShape {
    var input: [Int]
    var weight: [Int]

    /// Arguments for the `cmf_nn.h` backward kernels, in their order.
    var n: Int64 { Int64(input[0]) }
    var ci: Int64 { Int64(input[1]) }
    var co: Int64 { Int64(weight[0]) }

    init(input: [Int], weight: [Int], gradOutput: [Int], geometry: ConvolutionGeometry, _ what: String) throws {
        guard input.count == 5, input.allSatisfy({ $0 > 0 }) else {
            throw CMFError.shape("\(what): input shape must be 5-D [N, C, D, H, W] with positive sizes, got \(input)")
        }
        guard weight.count == 5, weight.allSatisfy({ $0 > 0 }) else {
            throw CMFError.shape("\(what): weight shape must be 5-D [Cout, Cin, kD, kH, kW], got \(weight)")
        }
        guard weight[1] == input[1] else {
            throw CMFError.shape("\(what): weight \(weight) expects \(weight[1]) input channels, input \(input) has \(input[1])")
        }
        let spatial = try geometry.outputSpatial(input: Array(input[2...]), kernel: Array(weight[2...]))
        let expected = [input[0], weight[0]] + spatial
        guard gradOutput == expected else {
            throw CMFError.shape("\(what): output gradient \(gradOutput) does not match the convolution of input \(input) by weight \(weight) (\(geometry)), which gives \(expected)")
        }
        self.input = input
        self.weight = weight
    }
}

typealias ConvBackwardDataKernel = (UnsafePointer<Float>?, Int64, Int64, Int64, Int64, Int64,
                                    UnsafePointer<Float>?, Int64, Int64, Int64, Int64, Int64, Int64,
                                    UnsafeMutablePointer<Float>?, Int32) -> Int32
typealias ConvBackwardWeightsKernel = (UnsafePointer<Float>?, Int64, Int64, Int64, Int64, Int64,
                                       UnsafePointer<Float>?, Int64, Int64, Int64, Int64, Int64, Int64,
                                       UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Int32

/// Runs a `cmf_nn.h` backward-data kernel on tensors (shared by the engines).
func runConvolutionBackwardData(_ kernel: ConvBackwardDataKernel, name: String, gradOutput: Tensor, weight: Tensor,
                                inputShape: [Int], geometry: ConvolutionGeometry, threads: Int) throws -> Tensor {
    let s = try ConvolutionBackwardShape(input: inputShape, weight: weight.shape, gradOutput: gradOutput.shape,
                                         geometry: geometry, name)
    let i = s.input, k = s.weight
    var gradInput = Tensor(uninitializedShape: i)
    let rc = gradOutput.storage.withUnsafeBufferPointer { g in
        weight.storage.withUnsafeBufferPointer { wt in
            gradInput.storage.withUnsafeMutableBufferPointer { gi in
                kernel(g.baseAddress, s.n, s.ci, Int64(i[2]), Int64(i[3]), Int64(i[4]), wt.baseAddress, s.co,
                       Int64(k[2]), Int64(k[3]), Int64(k[4]), Int64(geometry.stride), Int64(geometry.padding),
                       gi.baseAddress, Int32(clamping: threads))
            }
        }
    }
    try kernelCheck(rc, name)
    return gradInput
}

/// Runs a `cmf_nn.h` backward-weights kernel on tensors (shared by the engines).
func runConvolutionBackwardWeights(_ kernel: ConvBackwardWeightsKernel, name: String, input: Tensor,
                                   gradOutput: Tensor, weightShape: [Int], withBias: Bool,
                                   geometry: ConvolutionGeometry, threads: Int) throws -> (weight: Tensor, bias: Tensor?) {
    let s = try ConvolutionBackwardShape(input: input.shape, weight: weightShape, gradOutput: gradOutput.shape,
                                         geometry: geometry, name)
    let i = s.input, k = s.weight
    var gradWeight = Tensor(zeros: k)
    var gradBias = Tensor(zeros: withBias ? [k[0]] : [0])
    let rc = input.storage.withUnsafeBufferPointer { x in
        gradOutput.storage.withUnsafeBufferPointer { g in
            gradWeight.storage.withUnsafeMutableBufferPointer { gw in
                gradBias.storage.withUnsafeMutableBufferPointer { gb in
                    kernel(x.baseAddress, s.n, s.ci, Int64(i[2]), Int64(i[3]), Int64(i[4]), g.baseAddress, s.co,
                           Int64(k[2]), Int64(k[3]), Int64(k[4]), Int64(geometry.stride), Int64(geometry.padding),
                           gw.baseAddress, withBias ? gb.baseAddress : nil, Int32(clamping: threads))
                }
            }
        }
    }
    try kernelCheck(rc, name)
    return (gradWeight, withBias ? gradBias : nil)
}
