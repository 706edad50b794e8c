/// The mean scores of many cases per region — the line a cohort's table ends with.
/// Means are over the cases where the value is finite (a NaN, e.g. the sensitivity of a
/// region absent from the reference, is left out and the count says so).
public struct CohortSummary: Sendable, Equatable {
    public struct Mean: Sendable, Equatable {
        public var value: Double
        /// Cases that contributed (finite values).
        public var cases: Int
    }

    public var caseCount: Int
    /// Indexed by `TumorRegion.rawValue`.
    public var dice: [Mean], hd95: [Mean], sensitivity: [Mean]

    public init(_ results: [EvaluationResult]) {
        func mean(_ region: TumorRegion, _ metric: (RegionMetrics) -> Double) -> Mean {
            let values = results.map { metric($0[region]) }.filter(\.isFinite)
            return Mean(value: values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count), cases: values.count)
        }
        caseCount = results.count
        dice = TumorRegion.allCases.map { mean($0, \.dice) }
        hd95 = TumorRegion.allCases.map { mean($0, \.hd95) }
        sensitivity = TumorRegion.allCases.map { mean($0, \.sensitivity) }
    }

    /// A table: one row per region with the mean Dice, HD95 and sensitivity.
    public var text: String {
        func cell(_ m: Mean, _ digits: Int) -> String {
            let s = m.value.isFinite ? String(cFormat: "%.\(digits)f", m.value) : "nan"
            let note = m.cases < caseCount ? " (\(m.cases))" : ""
            return (s + note).padded(toWidth: 14)
        }
        var lines = ["mean of \(caseCount) case\(caseCount == 1 ? "" : "s")",
                     "region  dice          hd95(mm)      sensitivity"]
        for r in TumorRegion.allCases {
            let k = r.rawValue
            lines.append(r.name.padded(toWidth: 8)
                         + cell(dice[k], 4) + cell(hd95[k], 3) + cell(sensitivity[k], 4))
        }
        return lines.joined(separator: "\n")
    }
}
