/// Everything the segmentation pipeline can be told, with the defaults of the method.
public struct SegmentationOptions: Equatable, Sendable {
    public var preprocess = PreprocessOptions()
    public var window = SlidingWindowOptions()
    /// nil switches post-processing off (the raw argmax is returned).
    public var postProcess: PostProcessOptions? = PostProcessOptions()
    /// The label value written for each network class (metadata `class_values`); BraTS
    /// 2017–2022 by default: background 0, edema 2, NCR/NET 1, enhancing 4.
    public var classValues: [UInt8] = [0, 2, 1, 4]
    /// Also return the class probabilities on the input grid.
    public var keepProbabilities = false
    /// Threads for the pipeline's own kernels (≤ 0: OpenMP's default). When > 0,
    /// ``SegmentationModel/segment(_:options:control:)`` runs the network with them too
    /// (else with the model's `context.threads`); a predictor given to ``Segmenter``
    /// directly keeps its own.
    public var threads = 0
    /// The convolutions' arithmetic: f32 (default) or bf16 (oneDNN engine only; see
    /// ``ConvolutionPrecision``).
    public var precision = ConvolutionPrecision.f32
    /// Caps on the grid and the memory of one segmentation; nil: the process's
    /// (``ResourceLimits/current()``).
    public var limits: ResourceLimits?

    public init() {}

    /// The defaults for a model: its window, class values and normalisation (metadata, or
    /// the authors' defaults the model reports), everything else as ``init()``.
    public init(for model: SegmentationModel) {
        self.init()
        window.patch = model.window
        classValues = model.classValues
        preprocess.normalization = model.normalization
    }
}
