/// Percentiles as numpy computes them by default (`np.percentile(a, q)`, method "linear"):
/// for n sorted values v₀ ≤ … ≤ vₙ₋₁, the virtual index is h = q/100 · (n − 1); with
/// i = ⌊h⌋ and f = h − i the result is vᵢ + f · (vᵢ₊₁ − vᵢ) (vᵢ when i = n − 1).
/// Computed in double precision.
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
        let b = Double(sorted[i + 1])
        return a + f * (b - a)
    }
}
