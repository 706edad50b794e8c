/// The random transformations of a training patch (nnU-Net's, reduced to the ones that cost
/// little on a CPU). Defaults in the ranges nnU-Net uses.
///
/// Spatial: mirroring along each axis, applied identically to the image and the labels.
///
/// Intensity, per sample and per channel, applied to the brain only: voxels that are 0 — the
/// background and the padding, exactly 0 after pre-processing — stay 0, as they are at
/// inference, so the network never sees a background value it will not meet there. (nnU-Net
/// transforms every voxel; its background is not held at 0 by its normalisation anyway.)
/// The labels are never touched. For each sample, each transformation is applied with
/// `probability`; when it is, each channel draws its own parameter. Order: bias field, gamma,
/// scale, shift.
public struct AugmentationOptions: Sendable, Equatable {
    /// Chance of mirroring along each axis (x, y, z independently), in 0...1.
    public var flipProbability: Double = 0.5
    /// Multiplier per channel, drawn uniformly from the range (positive bounds).
    public var intensityScale: ClosedRange<Double>? = 0.9...1.1
    /// Added per channel (z-score units), drawn uniformly from the range.
    public var intensityShift: ClosedRange<Double>? = -0.1...0.1
    /// Gamma per channel (positive bounds), applied to the channel's brain values rescaled to
    /// [0, 1] over the patch, then rescaled back: `lo + (hi − lo) · ((v − lo) / (hi − lo))^γ`.
    /// When the range holds 1, γ < 1 and γ > 1 are equally likely (half the draws from
    /// lower..<1, half from 1...upper), as nnU-Net does.
    public var gamma: ClosedRange<Double>? = 0.7...1.5
    /// Largest amplitude of a smooth multiplicative bias field `exp(f)` per channel, in 0...2:
    /// f is a sum of Legendre polynomials of degree 1–3 along each axis of the patch with
    /// standard-normal coefficients, scaled so that max |f| over the patch equals an amplitude
    /// drawn uniformly from 0...biasField (0.3: the field stays within 0.74…1.35). Being a sum
    /// of per-axis terms, the field is a product of three 1-D profiles.
    public var biasField: Double? = 0.3
    /// Chance that each intensity transformation is applied to a sample, in 0...1 (flips have
    /// their own).
    public var probability: Double = 0.3

    /// Everything off: the patch is the crop, unchanged.
    public static let none = AugmentationOptions(flipProbability: 0, intensityScale: nil, intensityShift: nil,
                                                 gamma: nil, biasField: nil, probability: 0)

    public init(flipProbability: Double = 0.5, intensityScale: ClosedRange<Double>? = 0.9...1.1,
                intensityShift: ClosedRange<Double>? = -0.1...0.1, gamma: ClosedRange<Double>? = 0.7...1.5,
                biasField: Double? = 0.3, probability: Double = 0.3) {
        self.flipProbability = flipProbability
        self.intensityScale = intensityScale
        self.intensityShift = intensityShift
        self.gamma = gamma
        self.biasField = biasField
        self.probability = probability
    }

    /// Checks the ranges above.
    /// - Throws: `CMFError.invalidArgument` naming the field.
    public func validate() throws {
        func finite(_ r: ClosedRange<Double>) -> Bool { r.lowerBound.isFinite && r.upperBound.isFinite }
        guard flipProbability.isFinite, (0...1).contains(flipProbability) else {
            throw CMFError.invalidArgument("flip probability \(flipProbability) must be in 0...1")
        }
        guard probability.isFinite, (0...1).contains(probability) else {
            throw CMFError.invalidArgument("augmentation probability \(probability) must be in 0...1")
        }
        if let r = intensityScale, !(finite(r) && r.lowerBound > 0) {
            throw CMFError.invalidArgument("intensity scale range \(r) must be finite and positive")
        }
        if let r = intensityShift, !finite(r) {
            throw CMFError.invalidArgument("intensity shift range \(r) must be finite")
        }
        if let r = gamma, !(finite(r) && r.lowerBound > 0) {
            throw CMFError.invalidArgument("gamma range \(r) must be finite and positive")
        }
        if let b = biasField, !(b.isFinite && (0...2).contains(b)) {
            throw CMFError.invalidArgument("bias field amplitude \(b) must be in 0...2")
        }
    }
}
