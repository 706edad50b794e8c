import CMFSeg
import CMFSegABI

// cmf_write_report: the visual report of a case (include/cmfseg.h, "Reports").

@_cdecl("cmf_report_default_params")
public func cmf_report_default_params() -> cmf_report_params {
    cmf_report_params(struct_size: UInt32(MemoryLayout<cmf_report_params>.size), labels: CMF_LABELS_BRATS2018,
                      weights: nil, weight_count: 0, threads: 0, reserved: noReservedFields)
}

@_cdecl("cmf_write_report")
public func cmf_write_report(_ caseDir: UnsafePointer<CChar>?, _ segPath: UnsafePointer<CChar>?,
                             _ refPath: UnsafePointer<CChar>?, _ outPath: UnsafePointer<CChar>?,
                             _ params: UnsafePointer<cmf_report_params>?) -> cmf_status {
    guarded {
        let f = "cmf_write_report"
        let folder = try path(caseDir, "case_dir", in: f)
        let seg = try path(segPath, "seg_path", in: f)
        let ref = try refPath.map { try path($0, "ref_path", in: f) }
        let out = try path(outPath, "out_path", in: f)
        let p = try readParams(params, over: cmf_report_default_params(), "params", in: f)
        try requireZero(p.reserved, in: f)
        let options = EvaluationOptions(labels: try labelConvention(p.labels, in: f), threads: Int(p.threads))
        guard p.weight_count <= 4096 else {
            throw CMFError.invalidArgument("\(f): params->weight_count = \(p.weight_count) weight files is implausible")
        }
        var weights: [String] = []
        if p.weight_count > 0 {
            let list = try required(p.weights, "params->weights (with weight_count \(p.weight_count))", in: f)
            weights = try (0..<p.weight_count).map { try path(list[$0], "params->weights[\($0)]", in: f) }
        }
        try CaseReport.write(caseDirectory: folder, segmentation: seg, reference: ref, weights: weights,
                             options: options, to: out)
    }
}
