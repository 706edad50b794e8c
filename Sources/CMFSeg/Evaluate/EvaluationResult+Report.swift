/// Text, JSON and CSV forms of evaluation results (what `cmfseg evaluate` prints and writes).
///
/// Numbers are written in the shortest form that reads back to the same double.
/// JSON has no NaN or infinity: non-finite values are written as `null`. CSV writes them
/// as `nan`, `inf`, `-inf` (what numpy and pandas read back).
extension EvaluationResult {
    /// `{"WT": {...}, "TC": {...}, "ET": {...}}` with keys `dice`, `hd95`, `sensitivity`,
    /// `specificity`, `hd`, `assd`, `volume_ref_mm3`, `volume_pred_mm3`, `nsd` and `lesion`
    /// {`tp`, `fp`, `fn`, `rq`, `sq_dsc`, `sq_hd95`, `pq`}.
    public func json() -> String {
        let regions = TumorRegion.allCases.map { r -> String in
            let m = self[r]
            let l = m.lesion
            let fields: [(String, String)] = [
                ("dice", Self.jsonNumber(m.dice)), ("hd95", Self.jsonNumber(m.hd95)),
                ("sensitivity", Self.jsonNumber(m.sensitivity)), ("specificity", Self.jsonNumber(m.specificity)),
                ("hd", Self.jsonNumber(m.hd)), ("assd", Self.jsonNumber(m.assd)),
                ("volume_ref_mm3", Self.jsonNumber(m.volumeRefMM3)),
                ("volume_pred_mm3", Self.jsonNumber(m.volumePredMM3)), ("nsd", Self.jsonNumber(m.nsd)),
            ]
            let lesion = "{\"tp\": \(l.tp), \"fp\": \(l.fp), \"fn\": \(l.fn), \"rq\": \(Self.jsonNumber(l.rq)), "
                + "\"sq_dsc\": \(Self.jsonNumber(l.sqDice)), \"sq_hd95\": \(Self.jsonNumber(l.sqHD95)), "
                + "\"pq\": \(Self.jsonNumber(l.pq))}"
            let body = fields.map { "    \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
            return "  \"\(r.name)\": {\n\(body),\n    \"lesion\": \(lesion)\n  }"
        }
        return "{\n" + regions.joined(separator: ",\n") + "\n}"
    }

    /// A fixed-width table, one row per region.
    public func text() -> String {
        var lines = ["region   dice    hd95(mm)  sens    spec    hd(mm)    assd(mm)  nsd     vol_ref(mm3)  vol_pred(mm3)  lesions tp/fp/fn  rq      sq_dsc  sq_hd95  pq"]
        for r in TumorRegion.allCases {
            let m = self[r], l = m.lesion
            func f(_ v: Double, _ w: Int, _ p: Int = 4) -> String {
                let s = v.isFinite ? String(cFormat: "%.\(p)f", v) : "\(v)"
                return s.padded(toWidth: max(w, s.count))
            }
            let counts = "\(l.tp)/\(l.fp)/\(l.fn)"
            lines.append("\(r.name.padded(toWidth: 9))\(f(m.dice, 8))\(f(m.hd95, 10, 3))"
                + "\(f(m.sensitivity, 8))\(f(m.specificity, 8))\(f(m.hd, 10, 3))\(f(m.assd, 10, 3))\(f(m.nsd, 8))"
                + "\(f(m.volumeRefMM3, 14, 1))\(f(m.volumePredMM3, 15, 1))"
                + "\(counts.padded(toWidth: 18))\(f(l.rq, 8))\(f(l.sqDice, 8))"
                + "\(f(l.sqHD95, 9, 3))\(f(l.pq, 6))")
        }
        return lines.joined(separator: "\n")
    }

    /// The CSV header of ``csvRows(case:)``.
    public static let csvHeader = "case,region,dice,hd95,sensitivity,specificity,hd,assd,volume_ref_mm3,volume_pred_mm3,nsd,lesion_tp,lesion_fp,lesion_fn,lesion_rq,lesion_sq_dsc,lesion_sq_hd95,lesion_pq"

    /// One CSV line per region, without line ends.
    public func csvRows(case name: String) -> [String] {
        TumorRegion.allCases.map { r in
            let m = self[r], l = m.lesion
            let values = [m.dice, m.hd95, m.sensitivity, m.specificity, m.hd, m.assd, m.volumeRefMM3,
                          m.volumePredMM3, m.nsd].map(Self.csvNumber)
            let lesion = ["\(l.tp)", "\(l.fp)", "\(l.fn)"] + [l.rq, l.sqDice, l.sqHD95, l.pq].map(Self.csvNumber)
            return ([Self.csvField(name), r.name] + values + lesion).joined(separator: ",")
        }
    }

    static func jsonNumber(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

    static func csvNumber(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return "\(v)"
    }

    /// Quotes a CSV field when it holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacing("\"", with: "\"\"") + "\""
    }
}
