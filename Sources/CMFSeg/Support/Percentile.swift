/// Percentiles as numpy computes them by default (`np.percentile(a, q)`, method "linear"):
/// for n sorted values v₀ ≤ … ≤ vₙ₋₁, the virtual index is h = q/100 · (n − 1); with
/// i = ⌊h⌋ and f = h − i the result is numpy's `_lerp(vᵢ, vᵢ₊₁, f)` (vᵢ when i = n − 1).
/// Computed in double precision. Pre-processing and the evaluation's HD95 both use it.
public enum Percentile {
    /// - Parameters:
    ///   - sorted: ascending values, at least one.
    ///   - q: the percentile in 0...100.
    /// - Returns: the interpolated value, or nil for an empty array.
    public static func linear(sorted: [Float], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let h = q / 100 * Double(sorted.count - 1)
        let i = min(max(Int(h.rounded(.down)), 0), sorted.count - 1)
        let f = h - Double(i)
        let a = Double(sorted[i])
        guard i + 1 < sorted.count else { return a }
        return lerp(a, Double(sorted[i + 1]), f)
    }

    /// numpy's `_lerp`: a + (b − a)·t, computed from the nearer end so that the rounding is
    /// numpy's to the last bit.
    public static func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double {
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }
}
