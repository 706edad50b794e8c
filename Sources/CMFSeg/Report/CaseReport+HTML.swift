import FoundationEssentials

/// The page: one self-contained HTML file (CSS inline, images as `data:` URIs, no script and
/// no external resource), readable offline and safe to mail. Every number shown rounded
/// carries its exact value in the cell's `title` (the tooltip).
extension CaseReport {
    /// The report as an HTML page.
    public func html() -> String {
        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="cmfseg \(CMFSegVersion.string)">
        <title>\(Self.escape(input.name)) · cmfseg report</title>
        <style>\(Self.css)</style>
        </head>
        <body>
        <h1>Tumour segmentation report: \(Self.escape(input.name))</h1>

        """
        page += summarySection() + slicesSection() + scoresSection() + volumesSection()
            + modelSection() + timingsSection()
        page += "<footer>Made by cmfseg \(CMFSegVersion.string) on \(Self.escape(Date.now.ISO8601Format())).</footer>\n</body>\n</html>\n"
        return page
    }

    private func summarySection() -> String {
        let shape = input.segmentation.shape, s = input.segmentation.geometry.spacing
        var out = "<section id=\"case\">\n<p>Grid \(shape.nx) × \(shape.ny) × \(shape.nz) voxels of "
            + "\(Self.number(s.x)) × \(Self.number(s.y)) × \(Self.number(s.z)) mm; labels: "
            + "\(input.options.labels.displayName)"
        if !input.segmentationDescription.isEmpty {
            out += "; the segmentation file says: “\(Self.escape(input.segmentationDescription))”"
        }
        out += ".</p>\n<table class=\"files\">\n"
        let roles = Modality.allCases.map { ($0.rawValue, $0.rawValue.uppercased()) }
            + [("segmentation", "Segmentation"), ("reference", "Reference")]
        for (role, title) in roles {
            guard let path = input.files[role] else { continue }
            out += "<tr><th>\(title)</th><td><code>\(Self.escape(path))</code></td></tr>\n"
        }
        return out + "</table>\n</section>\n"
    }

    private func slicesSection() -> String {
        var out = "<section id=\"slices\">\n<h2>Slices through the tumour</h2>\n"
        let voxel = "voxel (x, y, z) = (\(centre.x), \(centre.y), \(centre.z))"
        switch centreSource {
        case .reference:
            out += "<p>Through the centre of mass of the reference's whole tumour, \(voxel).</p>\n"
        case .segmentation:
            out += "<p>Through the centre of mass of the segmentation's whole tumour, \(voxel).</p>\n"
        case .grid:
            out += "<p class=\"note\">Neither the segmentation nor the reference has tumour: the slices go through the middle of the grid, \(voxel).</p>\n"
        }
        out += "<p class=\"legend\">"
        for (label, name) in LabelStatistics.labelNames(input.options.labels) {
            let c = SlicePreview.labelColours[label] ?? (0, 0, 0)
            out += "<span class=\"swatch\" style=\"background:rgb(\(c.0),\(c.1),\(c.2))\"></span>\(name) (label \(label))"
        }
        out += "<br>Enhancing tumour (ET) is yellow; the tumour core (TC) is red and yellow; the whole tumour (WT) is red, yellow and green.</p>\n"
        let panels = "T1, T1ce, T2, FLAIR, then FLAIR with " + (input.reference == nil
            ? "the segmentation" : "the reference beside FLAIR with the segmentation")
        for slice in slices {
            let (axis, view): (String, String)
            switch slice.plane {
            case .axial: (axis, view) = ("z", "the patient's right on the left, anterior at the top")
            case .coronal: (axis, view) = ("y", "the patient's right on the left, superior at the top")
            case .sagittal: (axis, view) = ("x", "anterior on the left, superior at the top")
            }
            let n = [input.segmentation.shape.nx, input.segmentation.shape.ny, input.segmentation.shape.nz][slice.plane.axes.normal]
            let title = "\(slice.plane.rawValue.prefix(1).uppercased())\(slice.plane.rawValue.dropFirst()) slice \(axis) = \(slice.index) of 0–\(n - 1)"
            out += "<figure id=\"\(slice.plane.rawValue)\">\n<img alt=\"\(title)\" width=\"\(slice.width)\" height=\"\(slice.height)\" "
                + "src=\"data:image/png;base64,\(Data(slice.png).base64EncodedString())\">\n"
                + "<figcaption>\(title): \(panels); \(view).</figcaption>\n</figure>\n"
        }
        return out + "</section>\n"
    }

    private func scoresSection() -> String {
        var out = "<section id=\"scores\">\n<h2>Scores against the reference</h2>\n"
        guard let scores else {
            return out + "<p>No reference was given: no scores.</p>\n</section>\n"
        }
        out += "<table>\n<tr><th>Region</th><th>Dice</th><th>HD95 (mm)</th><th>Sensitivity</th><th>Specificity</th></tr>\n"
        for r in TumorRegion.allCases {
            let m = scores[r]
            out += "<tr><th>\(r.name)</th>\(Self.cell(m.dice, 4))\(Self.cell(m.hd95, 2))\(Self.cell(m.sensitivity, 4))\(Self.cell(m.specificity, 4))</tr>\n"
        }
        out += "</table>\n<h3>Lesion-wise (BraTS 2023 and later)</h3>\n<table>\n<tr><th>Region</th><th>Matched lesions</th><th>Extra (FP)</th>"
            + "<th>Missed (FN)</th><th>Detection F1 (RQ)</th><th>Dice of matched</th><th>HD95 of matched (mm)</th><th>Panoptic quality</th></tr>\n"
        for r in TumorRegion.allCases {
            let l = scores[r].lesion
            out += "<tr><th>\(r.name)</th><td>\(l.tp)</td><td>\(l.fp)</td><td>\(l.fn)</td>\(Self.cell(l.rq, 4))\(Self.cell(l.sqDice, 4))\(Self.cell(l.sqHD95, 2))\(Self.cell(l.pq, 4))</tr>\n"
        }
        return out + "</table>\n<p>HD95 where one mask is empty: \(Self.escape(input.options.emptyDistance.description)); "
            + "lesion scores are n/a where neither map has a lesion. Definitions: the evaluator's (MedPy / panoptica, as the BraTS challenge).</p>\n</section>\n"
    }

    private func volumesSection() -> String {
        var out = "<section id=\"volumes\">\n<h2>Volumes (cm³)</h2>\n<table>\n<tr><th></th><th>Segmentation</th>"
        if referenceStatistics != nil { out += "<th>Reference</th>" }
        out += "</tr>\n"
        let stats = [segmentationStatistics] + (referenceStatistics.map { [$0] } ?? [])
        for r in TumorRegion.allCases {
            out += "<tr><th>\(r.name)</th>" + stats.map { Self.cell($0.volumeCM3(of: r), 2) }.joined() + "</tr>\n"
        }
        for (label, name) in LabelStatistics.labelNames(input.options.labels) {
            out += "<tr><th>Label \(label), \(name)</th>" + stats.map { Self.cell($0.volumeCM3(label: label), 2) }.joined() + "</tr>\n"
        }
        return out + "</table>\n<p>One voxel: \(Self.number(segmentationStatistics.voxelVolumeMM3)) mm³.</p>\n</section>\n"
    }

    private func modelSection() -> String {
        var out = "<section id=\"model\">\n<h2>Model</h2>\n"
        guard let model = input.model else {
            return out + "<p>The model that made the segmentation was not given: give the weights it was made with "
                + "(<code>--weights</code>; <code>weights=</code> in Python) to list its provenance here.</p>\n</section>\n"
        }
        out += "<p>\(Self.escape(model.architecture)) from " + model.files.map { "<code>\(Self.escape($0))</code>" }.joined(separator: ", ") + ".</p>\n"
        for note in model.notes { out += "<p class=\"note\">\(Self.escape(note))</p>\n" }
        out += "<table class=\"meta\">\n"
        for key in model.metadata.keys.sorted() {
            out += "<tr><th>\(Self.escape(key))</th><td><code>\(Self.escape(model.metadata[key] ?? ""))</code></td></tr>\n"
        }
        return out + "</table>\n</section>\n"
    }

    private func timingsSection() -> String {
        let total = input.readSeconds + scoreSeconds + drawSeconds
        var out = "<section id=\"timings\">\n<h2>Timings</h2>\n<p>This report: \(Self.fixed(total, 2)) s "
            + "(reading \(Self.fixed(input.readSeconds, 2)) s, scoring \(Self.fixed(scoreSeconds, 2)) s, "
            + "drawing \(Self.fixed(drawSeconds, 2)) s).</p>\n"
        if let t = input.segmentationTimings { out += "<p>The segmentation: \(Self.escape(t.summary)).</p>\n" }
        return out + "</section>\n"
    }

    static let css = """
    body{font:14px/1.45 system-ui,sans-serif;color:#1d1d1d;background:#fff;max-width:1200px;margin:0 auto;padding:12px 18px}\
    h1{font-size:21px;margin:4px 0 8px}h2{font-size:17px;margin:20px 0 6px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:12px 0 4px}\
    figure{margin:10px 0 16px}figure img{display:block;max-width:100%;height:auto;image-rendering:pixelated;background:#000}\
    figcaption{color:#555;font-size:13px;margin-top:3px}\
    table{border-collapse:collapse}th,td{padding:2px 10px;border-bottom:1px solid #e6e6e6;text-align:right;vertical-align:top}\
    th:first-child{text-align:left}table.files td,table.meta td{text-align:left}code{word-break:break-all}\
    .swatch{display:inline-block;width:14px;height:14px;vertical-align:-2px;margin:0 5px 0 12px;border:1px solid #0004}\
    .swatch:first-child{margin-left:0}.note{background:#fff5d1;border-left:4px solid #e0b000;padding:4px 8px}\
    footer{margin-top:24px;color:#777;font-size:12px}
    """

    /// A table cell: `value` rounded to `digits` decimals, the exact value as its tooltip.
    static func cell(_ value: Double, _ digits: Int) -> String {
        "<td title=\"\(value)\">\(fixed(value, digits))</td>"
    }

    /// `value` with `digits` decimals; n/a for NaN, ∞ for infinity.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "−∞") }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard scaled < 9e15 else { return "\(value)" }
        let n = Int64(scaled)
        var text = String(n / scale)
        if digits > 0 {
            let fraction = String(n % scale)
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return (value < 0 && n != 0 ? "-" : "") + text
    }

    /// A spacing or volume: as short as it reads exactly, at most 4 decimals.
    static func number(_ v: Double) -> String {
        var s = fixed(v, 4)
        guard s.contains(".") else { return s }
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
