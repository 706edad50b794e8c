/// One training sample: a patch of one case, cropped and augmented (see ``PatchSampler``).
public struct TrainingBatch: Sendable {
    /// What was drawn for the sample's augmentation (for logs and tests).
    public struct Augmentation: Sendable, Equatable {
        /// Mirrored along x, y, z.
        public var flipX = false, flipY = false, flipZ = false
        /// Per channel, when the transformation was applied to this sample; nil otherwise.
        public var scale: [Double]?
        public var shift: [Double]?
        public var gamma: [Double]?
        /// Largest |log| of each channel's bias field over the patch.
        public var biasAmplitude: [Double]?

        public init() {}
    }

    /// `[1, C, pd, ph, pw]` (pd = patch z, ph = y, pw = x), channels in the dataset's
    /// modality order.
    public var input: Tensor
    /// `pd · ph · pw` class indices (x fastest), mirrored exactly as `input`.
    public var labels: [UInt8]
    /// The case the patch comes from (index into the dataset's cases).
    public var caseIndex: Int
    /// The patch's lower corner (x, y, z) in the case's padded grid (before mirroring, which
    /// happens inside the patch).
    public var origin: SIMD3<Int>
    /// The training step the sample belongs to.
    public var step: Int
    /// True when the patch was centred on a foreground voxel (foreground oversampling).
    public var centredOnForeground: Bool
    public var augmentation: Augmentation
}
