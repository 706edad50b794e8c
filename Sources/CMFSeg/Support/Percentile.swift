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

    /// The same percentiles as ``linear(sorted:_:)`` without sorting: each needs only the
    /// values at its two ranks, found by selection in expected linear time (a sort of 3.7 M
    /// brain voxels took ~0.15 s per modality). Reorders `values`.
    /// - Parameters:
    ///   - values: at least one value, in any order.
    ///   - qs: percentiles in 0...100, in any order.
    /// - Returns: one value per percentile, in the order of `qs`, or nil for no values.
    public static func linear(selectingIn values: inout [Float], _ qs: [Double]) -> [Double]? {
        let n = values.count
        guard n > 0 else { return nil }
        let ranks = qs.map { q -> (i: Int, f: Double) in
            let h = q / 100 * Double(n - 1)
            let i = min(max(Int(h.rounded(.down)), 0), n - 1)
            return (i, h - Double(i))
        }
        return values.withUnsafeMutableBufferPointer { v -> [Double] in
            // Ascending ranks: each selection only searches above the previous rank, whose
            // values are all at least as large.
            var found: [Int: (Double, Double)] = [:]
            var floor = 0
            for i in Set(ranks.map(\.i)).sorted() {
                select(v, rank: i, in: floor..<n)
                var next = i + 1 < n ? v[i + 1] : v[i]
                for j in (i + 1)..<n where v[j] < next { next = v[j] }
                found[i] = (Double(v[i]), Double(next))
                floor = i + 1
            }
            return ranks.map { r in
                let (a, b) = found[r.i]!
                return r.i + 1 < n ? lerp(a, b, r.f) : a
            }
        }
    }

    /// Reorders `v[range]` so that `v[rank]` holds the value a sort would put there, no larger
    /// value before it and no smaller one after it (introselect: Hoare partitions around a
    /// median of three; a sort of what is left once partitions stop shrinking the range
    /// geometrically, so adversarial inputs cannot make it quadratic). Every scan is
    /// bounds-checked, so NaNs cannot carry it outside the range.
    static func select(_ v: UnsafeMutableBufferPointer<Float>, rank: Int, in range: Range<Int>) {
        var lo = range.lowerBound, hi = range.upperBound - 1
        var budget = 2 * (Int.bitWidth - range.count.leadingZeroBitCount) + 8
        while hi > lo {
            if budget == 0 || hi - lo < 16 {
                var rest = UnsafeMutableBufferPointer(rebasing: v[lo...hi])
                rest.sort()
                return
            }
            budget -= 1
            let a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = lo, j = hi
            while i <= j {
                while i <= hi && v[i] < pivot { i += 1 }
                while j >= lo && v[j] > pivot { j -= 1 }
                if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
            }
            // Now v[lo...j] ≤ pivot ≤ v[i...hi], and everything strictly between equals it.
            if rank <= j { hi = j } else if rank >= i { lo = i } else { return }
        }
    }

    /// numpy's `_lerp`: a + (b − a)·t, computed from the nearer end so that the rounding is
    /// numpy's to the last bit.
    public static func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double {
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }
}
