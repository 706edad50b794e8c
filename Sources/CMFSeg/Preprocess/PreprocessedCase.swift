/// A case ready for the network: normalised, cropped and padded channels, and what is needed
/// to put results back into the input grid.
public struct PreprocessedCase: Sendable {
    /// The channel order of `input`.
    public var modalities: [Modality]
    /// `[1, modalities.count, D, H, W]` with D = z, H = y, W = x of `paddedShape`.
    public var input: Tensor
    /// The crop box in the input grid (its lower corner is voxel (0, 0, 0) of `input`).
    public var box: Box3
    /// The grid of `input`: `box.shape` zero-padded at the upper end of each axis.
    public var paddedShape: Shape3
    /// The input grid and its geometry.
    public var gridShape: Shape3
    public var geometry: Geometry
    /// The brain mask on the input grid (1 inside, 0 outside), by the options' rule.
    public var brainMask: [UInt8]
}
