import CCMFKernels

/// Direct convolution loops with double accumulation (`cmfk_conv3d_f32_naive`): slow, simple,
/// obviously correct — the test oracle for the fast engines.
public struct NaiveConvolutionEngine: ConvolutionEngine {
    public init() {}
    public var name: String { "naive" }

    public func forward(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                        threads: Int) throws -> Tensor {
        try runConvolution(cmfk_conv3d_f32_naive, name: "naive convolution", input: input, weight: weight,
                           bias: bias, geometry: geometry, threads: threads)
    }

    /// Direct loops (`cmfk_conv3d_backward_data_f32_naive`), double accumulation.
    public func backwardData(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int], geometry: ConvolutionGeometry,
                             threads: Int) throws -> Tensor {
        try runConvolutionBackwardData(cmfk_conv3d_backward_data_f32_naive, name: "naive convolution backward data",
                                       gradOutput: gradOutput, weight: weight, inputShape: inputShape,
                                       geometry: geometry, threads: threads)
    }

    /// Direct loops (`cmfk_conv3d_backward_weights_f32_naive`), double accumulation.
    public func backwardWeights(_ input: Tensor, gradOutput: Tensor, weightShape: [Int], withBias: Bool,
                                geometry: ConvolutionGeometry, threads: Int) throws -> (weight: Tensor, bias: Tensor?) {
        try runConvolutionBackwardWeights(cmfk_conv3d_backward_weights_f32_naive,
                                          name: "naive convolution backward weights", input: input,
                                          gradOutput: gradOutput, weightShape: weightShape, withBias: withBias,
                                          geometry: geometry, threads: threads)
    }
}

typealias ConvKernel = (UnsafePointer<Float>?, Int64, Int64, Int64, Int64, Int64,
                        UnsafePointer<Float>?, UnsafePointer<Float>?, Int64,
                        Int64, Int64, Int64, Int64, Int64, UnsafeMutablePointer<Float>?, Int32) -> Int32

/// Runs a C convolution kernel with the `cmf_nn.h` signature on tensors.
func runConvolution(_ kernel: ConvKernel, name: String, input: Tensor, weight: Tensor, bias: Tensor?,
                    geometry: ConvolutionGeometry, threads: Int) throws -> Tensor {
    let outShape = try convolutionOutputShape(input: input, weight: weight, bias: bias, geometry: geometry)
    var out = Tensor(uninitializedShape: outShape)
    let s = input.shape, k = weight.shape
    let rc: Int32 = input.storage.withUnsafeBufferPointer { x in
        weight.storage.withUnsafeBufferPointer { wt in
            out.storage.withUnsafeMutableBufferPointer { o in
                if let bias {
                    return bias.storage.withUnsafeBufferPointer { b in
                        kernel(x.baseAddress, Int64(s[0]), Int64(s[1]), Int64(s[2]), Int64(s[3]), Int64(s[4]),
                               wt.baseAddress, b.baseAddress, Int64(k[0]), Int64(k[2]), Int64(k[3]), Int64(k[4]),
                               Int64(geometry.stride), Int64(geometry.padding), o.baseAddress, Int32(clamping: threads))
                    }
                }
                return kernel(x.baseAddress, Int64(s[0]), Int64(s[1]), Int64(s[2]), Int64(s[3]), Int64(s[4]),
                              wt.baseAddress, nil, Int64(k[0]), Int64(k[2]), Int64(k[3]), Int64(k[4]),
                              Int64(geometry.stride), Int64(geometry.padding), o.baseAddress, Int32(clamping: threads))
            }
        }
    }
    try kernelCheck(rc, name)
    return out
}
