/// How the pipeline turns the MRI volumes of a case into network input. One definition for
/// inference and training, so the two can never normalise differently.
///
/// Defaults reproduce the authors' pre-processing (`utils/dataset.py` of the reference code):
/// crop to the box where every modality is non-zero, z-score each modality over its non-zero
/// voxels with statistics of a copy clipped to its 2nd…98th percentiles, pad with zeros.
public struct PreprocessOptions: Equatable, Sendable {
    /// What to do with NaN or ±Inf voxels.
    public enum NonFinitePolicy: Equatable, Sendable {
        /// Refuse the case with an error naming the file and the count (the default: a NaN
        /// usually means a broken conversion upstream that should be fixed there).
        case error
        /// Replace them by 0 (background) and continue.
        case replaceWithZero
    }

    /// Which voxels define the crop box and the brain mask.
    public enum BrainMaskRule: Equatable, Sendable {
        /// Voxels non-zero in every available modality (the authors' rule; for skull-stripped
        /// BraTS data all modalities share one mask, so this equals `t1 != 0`).
        case allNonZero
        /// Voxels non-zero in at least one available modality.
        case anyNonZero
    }

    /// The standard deviation used by the z-score.
    public enum Normalization: String, Equatable, Sendable, CaseIterable {
        /// Mean over the modality's non-zero voxels of the percentile-clipped copy; standard
        /// deviation of the whole clipped crop, background zeros included — exactly what the
        /// authors' `normalize` computes (`x_temp.std()`). Metadata name `zscore-nonzero-p2-98`.
        case authors = "zscore-nonzero-p2-98"
        /// Mean and standard deviation both over the non-zero voxels of the clipped copy.
        /// Metadata name `zscore-nonzero-p2-98-nzstd`.
        case nonZeroStd = "zscore-nonzero-p2-98-nzstd"
    }

    public var nonFinite: NonFinitePolicy = .error
    public var brainMask: BrainMaskRule = .allNonZero
    public var normalization: Normalization = .authors
    /// Clipping percentiles in 0...100, lower < upper (numpy's default linear interpolation,
    /// see ``Percentile``).
    public var lowerPercentile: Double = 2
    public var upperPercentile: Double = 98

    public init() {}

    /// Checks the values a caller can set.
    /// - Throws: `CMFError.invalidArgument` naming the bad field.
    public func validate() throws {
        guard lowerPercentile.isFinite, upperPercentile.isFinite,
              lowerPercentile >= 0, upperPercentile <= 100, lowerPercentile < upperPercentile else {
            throw CMFError.invalidArgument("clipping percentiles must satisfy 0 <= lower < upper <= 100 (got \(lowerPercentile), \(upperPercentile))")
        }
    }
}
