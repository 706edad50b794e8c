/// A family of phantoms: the ranges every random choice of the generator is drawn from.
///
/// `standard` is what models are trained on. `shifted` moves every range outside or to the
/// edge of `standard` — weaker lesion contrast, more noise, a stronger bias field, smaller
/// and larger, more irregular and more often multifocal tumours, another mix of kinds — so
/// that a model can be scored on cases of a kind it never saw. The anatomy of case k of a
/// seed is the same in both (the warp is drawn first).
public enum PhantomVariant: String, CaseIterable, Sendable {
    case standard
    case shifted

    /// Ranges of one variant (lengths in mm, intensities relative to the reference table).
    struct Ranges: Sendable {
        /// Standard deviation and clamp of the per-case log-scale jitter of each tissue signal.
        var intensityJitter: (sigma: Double, limit: Double)
        /// Multiplies the lesion's contrast to normal white matter (1: the reference table).
        var lesionContrast: Double
        var gain: ClosedRange<Double>
        /// Rician noise σ as a fraction of the white-matter signal.
        var noise: ClosedRange<Double>
        /// Amplitude of the log bias field.
        var biasAmplitude: Double
        var secondTumourChance: Double
        /// Cumulative chances of the kinds ring and solid (the rest is non-enhancing).
        var kindThresholds: (ring: Double, solid: Double)
        var radius: ClosedRange<Double>
        var irregularity: ClosedRange<Double>
        var edemaReach: ClosedRange<Double>
    }

    var ranges: Ranges {
        switch self {
        case .standard:
            return Ranges(intensityJitter: (0.04, 0.08), lesionContrast: 1, gain: 0.8...1.25, noise: 0.02...0.035,
                          biasAmplitude: 0.12, secondTumourChance: 0.3, kindThresholds: (0.6, 0.8),
                          radius: 8...22, irregularity: 0.08...0.22, edemaReach: 6...24)
        case .shifted:
            return Ranges(intensityJitter: (0.05, 0.1), lesionContrast: 0.75, gain: 0.7...1.4, noise: 0.035...0.05,
                          biasAmplitude: 0.2, secondTumourChance: 0.5, kindThresholds: (0.4, 0.7),
                          radius: 6...26, irregularity: 0.2...0.32, edemaReach: 4...30)
        }
    }
}

extension SeededRandom {
    /// A uniform draw from `range` (one draw, as `uniform(_:_:)`).
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        uniform(range.lowerBound, range.upperBound)
    }
}
