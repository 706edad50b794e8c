/// What the pipeline returns for one case.
public struct SegmentationResult: Sendable {
    /// Label values (``SegmentationOptions/classValues``) on the input grid, input geometry.
    public var labels: LabelMap
    /// When requested: one probability volume per network class (network order), on the
    /// input grid, before post-processing; outside the crop box background has probability 1.
    public var probabilities: [ImageVolume]?
    /// The modalities the network read, in channel order.
    public var modalitiesUsed: [Modality]
    /// Modalities not given for this case.
    public var modalitiesMissing: [Modality]
    /// One line for humans and file headers: "cmfseg 0.1.0: " and what produced it, the
    /// model's route (``SegmentationModel/describe(_:)``, e.g. "CMFF fusion of t1+t1ce and
    /// t2+flair") or, for a bare predictor, the modalities (e.g. "single pair t2,flair
    /// (t1,t1ce missing)"). At most 79 characters (NIfTI-1 `descrip` holds 80 bytes).
    public var summary: String
    /// Which part of the model produced it; nil for a bare predictor (``Segmenter``).
    public var route: SegmentationModel.Route? = nil
    /// Where the time went (seconds, wall clock).
    public var timings = SegmentationTimings()
}

/// Wall-clock seconds per stage of one segmentation, for benchmarks and the CLI.
public struct SegmentationTimings: Sendable, Equatable {
    public var read = 0.0, preprocess = 0.0, network = 0.0, postprocess = 0.0, write = 0.0
    /// Windows slid over the case and network calls made (windows × flips).
    public var windows = 0, networkCalls = 0
    /// The windows' size (the fitted layout chooses it per case).
    public var window = Shape3(0, 0, 0)

    public init() {}

    /// "read 1.2 s, pre-process 0.8 s, network 60.1 s (8 windows of 128×128×128, 8 calls), post-process 0.3 s, write 0.9 s"
    /// (window sizes D×H×W).
    public var summary: String {
        String(cFormat: "read %.1f s, pre-process %.1f s, network %.1f s (%ld windows of %ld×%ld×%ld, %ld calls), post-process %.1f s, write %.1f s",
               read, preprocess, network, windows, window.nz, window.ny, window.nx, networkCalls, postprocess, write)
    }
}

