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
    /// One line for humans and file headers, e.g. "cmfseg 0.1.0: CMFF fusion of t1,t1ce,t2,flair"
    /// or "cmfseg 0.1.0: single branch t2,flair (t1,t1ce missing)". At most 79 characters
    /// (NIfTI-1 `descrip` holds 80 bytes).
    public var summary: String
    /// Which part of the network produced it (``SegmentationModel/Route`` raw value, e.g.
    /// "cmff-fused", "cmff-branch1"), nil for a bare predictor.
    public var route: String? = nil
}
