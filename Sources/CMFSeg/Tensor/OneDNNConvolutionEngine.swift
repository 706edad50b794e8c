import CCMFKernels

/// The fast engine: oneDNN 2.6 (`cmfk_conv3d_f32`, blocked layouts and AVX-512 kernels
/// inside, plain `[N, C, D, H, W]` at the interface). About 285 GFLOP/s on 2 AVX-512 cores
/// for the U-Net's 3×3×3 layers at 128³, ~200 for a whole CMFF forward (see PERFORMANCE.md,
/// and Sources/CCMFKernels/conv_dnnl.c for the OpenMP note).
public struct OneDNNConvolutionEngine: ConvolutionEngine {
    /// Whether `CNL` blocks use the fused kernel (false: convolution, reorder, then the
    /// separate norm pass — kept for benchmarks and as a cross-check).
    public var fusesNormalization: Bool
    /// The arithmetic of `forward` and `forwardInstanceNormLeakyReLU` (inference); the
    /// training entry points refuse bf16.
    public var precision: ConvolutionPrecision

    public init(fusesNormalization: Bool = true, precision: ConvolutionPrecision = .f32) {
        self.fusesNormalization = fusesNormalization
        self.precision = precision
    }

    public var name: String {
        (fusesNormalization ? "onednn" : "onednn-unfused") + (precision == .f32 ? "" : "-\(precision.rawValue)")
    }

    public func with(precision: ConvolutionPrecision) throws -> any ConvolutionEngine {
        OneDNNConvolutionEngine(fusesNormalization: fusesNormalization, precision: precision)
    }

    public func forward(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                        threads: Int) throws -> Tensor {
        switch precision {
        case .f32:
            return try runConvolution(cmfk_conv3d_f32, name: "oneDNN convolution", input: input, weight: weight,
                                      bias: bias, geometry: geometry, threads: threads)
        case .bf16:
            return try runConvolution({ x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, o, t in
                cmfk_conv3d_bf16(x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, 0, 0, 0, o, t)
            }, name: "oneDNN convolution (bf16)", input: input, weight: weight, bias: bias, geometry: geometry,
               threads: threads)
        }
    }

    /// Training computes in f32 only.
    func requireF32(_ what: String) throws {
        guard precision == .f32 else {
            throw CMFError.unsupported("\(what): training computes in f32; bf16 is an inference precision")
        }
    }

    /// Fused: oneDNN computes channels-last; statistics, normalisation and activation read
    /// that result directly and write the plain output (no separate reorder pass).
    public func forwardInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                             eps: Float, slope: Float, threads: Int) throws -> Tensor {
        guard fusesNormalization else {
            var y = try forward(input, weight: weight, bias: bias, geometry: geometry, threads: threads)
            try y.instanceNormLeakyReLU(eps: eps, slope: slope, threads: threads)
            return y
        }
        let bf16 = precision == .bf16
        return try runConvolution({ x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, o, t in
            bf16 ? cmfk_conv3d_bf16(x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, 1, eps, slope, o, t)
                 : cmfk_conv3d_instnorm_lrelu_f32(x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, eps, slope, o, t)
        }, name: "oneDNN convolution + instance norm", input: input, weight: weight, bias: bias,
           geometry: geometry, threads: threads)
    }

    /// The fused kernel again, also returning each (sample, channel)'s 1/std (bit for bit the
    /// output of `forwardInstanceNormLeakyReLU`, fused or not as `fusesNormalization` says).
    public func forwardTrainingInstanceNormLeakyReLU(_ input: Tensor, weight: Tensor, bias: Tensor?,
                                                     geometry: ConvolutionGeometry, eps: Float, slope: Float,
                                                     threads: Int) throws -> (output: Tensor, invStd: [Float]) {
        try requireF32("convolution + instance norm (training)")
        guard fusesNormalization else {
            var y = try forward(input, weight: weight, bias: bias, geometry: geometry, threads: threads)
            let invStd = try y.instanceNormLeakyReLUTraining(eps: eps, slope: slope, threads: threads)
            return (y, invStd)
        }
        let planes = try convolutionOutputShape(input: input, weight: weight, bias: bias, geometry: geometry)
            .prefix(2).reduce(1, *)
        var invStd = [Float](repeating: 0, count: planes)
        let y = try invStd.withUnsafeMutableBufferPointer { inv in
            try runConvolution({ x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, o, t in
                cmfk_conv3d_instnorm_lrelu_train_f32(x, n, ci, d, h, w, wt, b, co, kd, kh, kw, s, p, eps, slope, o,
                                                     inv.baseAddress, t)
            }, name: "oneDNN convolution + instance norm (training)", input: input, weight: weight, bias: bias,
               geometry: geometry, threads: threads)
        }
        return (y, invStd)
    }

    /// oneDNN's backward-data primitive (blocked layouts inside, plain at the interface).
    public func backwardData(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int], geometry: ConvolutionGeometry,
                             threads: Int) throws -> Tensor {
        try requireF32("convolution backward data")
        return try runConvolutionBackwardData(cmfk_conv3d_backward_data_f32, name: "oneDNN convolution backward data",
                                       gradOutput: gradOutput, weight: weight, inputShape: inputShape,
                                       geometry: geometry, threads: threads)
    }

    /// oneDNN's backward-weights primitive (blocked layouts inside, plain at the interface).
    public func backwardWeights(_ input: Tensor, gradOutput: Tensor, weightShape: [Int], withBias: Bool,
                                geometry: ConvolutionGeometry, threads: Int) throws -> (weight: Tensor, bias: Tensor?) {
        try requireF32("convolution backward weights")
        return try runConvolutionBackwardWeights(cmfk_conv3d_backward_weights_f32, name: "oneDNN convolution backward weights",
                                          input: input, gradOutput: gradOutput, weightShape: weightShape,
                                          withBias: withBias, geometry: geometry, threads: threads)
    }

    /// Whether oneDNN shares our OpenMP runtime (LLVM libomp) in this process.
    public static var sharesOpenMPRuntime: Bool { cmfk_dnnl_shares_openmp_runtime() == 1 }
}

/// The engine used when none is given: the fastest available.
public func defaultConvolutionEngine() -> any ConvolutionEngine { OneDNNConvolutionEngine() }
