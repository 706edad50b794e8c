import CMFSeg
import CMFSegABI
import Glibc

// cmf_evaluate_*: BraTS metrics (include/cmfseg.h, "Evaluation").

@_cdecl("cmf_eval_default_params")
public func cmf_eval_default_params() -> cmf_eval_params {
    cmf_eval_params(struct_size: UInt32(MemoryLayout<cmf_eval_params>.size),
                    labels: CMF_LABELS_BRATS2018, nsd_tolerance_mm: -1,
                    empty_distance: CMF_EMPTY_DIAGONAL, empty_distance_value: 0,
                    ignore_geometry: 0, threads: 0, max_voxels: 0, max_bytes: 0,
                    reserved: noReservedFields)
}

/// The evaluation options a params struct (or NULL: the defaults) asks for.
func evaluationOptions(_ params: UnsafePointer<cmf_eval_params>?, in function: String) throws -> EvaluationOptions {
    let p = try readParams(params, over: cmf_eval_default_params(), "cmf_eval", in: function)
    try requireZero(p.reserved, in: function)
    let labels = try labelConvention(p.labels, in: function)
    let empty: EmptyDistancePolicy
    switch p.empty_distance {
    case CMF_EMPTY_DIAGONAL: empty = .diagonal
    case CMF_EMPTY_INF: empty = .infinity
    case CMF_EMPTY_NAN: empty = .nan
    case CMF_EMPTY_VALUE:
        guard p.empty_distance_value.isFinite else {
            throw CMFError.invalidArgument("\(function): params->empty_distance_value must be finite")
        }
        empty = .value(p.empty_distance_value)
    default: throw CMFError.invalidArgument("\(function): params->empty_distance = \(p.empty_distance.rawValue) is not a cmf_empty_distance")
    }
    let tol = p.nsd_tolerance_mm
    guard !tol.isNaN, !(tol.isInfinite && tol > 0) else {
        throw CMFError.invalidArgument("\(function): params->nsd_tolerance_mm = \(tol) must be a finite number")
    }
    return EvaluationOptions(labels: labels, nsdToleranceMM: tol < 0 ? nil : tol, emptyDistance: empty,
                             ignoreGeometry: p.ignore_geometry != 0, threads: Int(p.threads),
                             limits: try ResourceLimits.forCall(maxVoxels: Int(p.max_voxels), maxBytes: Int(p.max_bytes)))
}

/// The convention a params struct's `labels` names.
func labelConvention(_ labels: cmf_label_convention, in function: String) throws -> LabelConvention {
    switch labels {
    case CMF_LABELS_BRATS2018: return .brats2018
    case CMF_LABELS_BRATS2023: return .brats2023
    default: throw CMFError.invalidArgument("\(function): params->labels = \(labels.rawValue) is not a cmf_label_convention")
    }
}

/// Writes `result` into the caller's struct (the fields its struct_size covers).
func store(_ result: EvaluationResult, into out: (pointer: UnsafeMutablePointer<cmf_eval_result>, size: Int)) {
    func region(_ m: RegionMetrics) -> cmf_region_metrics {
        cmf_region_metrics(dice: m.dice, hd95: m.hd95, sensitivity: m.sensitivity,
                           specificity: m.specificity, hd: m.hd, assd: m.assd,
                           volume_ref_mm3: m.volumeRefMM3, volume_pred_mm3: m.volumePredMM3, nsd: m.nsd,
                           lesion: cmf_lesion_metrics(tp: Int64(m.lesion.tp), fp: Int64(m.lesion.fp),
                                                      fn: Int64(m.lesion.fn), rq: m.lesion.rq,
                                                      sq_dsc: m.lesion.sqDice, sq_hd95: m.lesion.sqHD95,
                                                      pq: m.lesion.pq))
    }
    var local = cmf_eval_result()
    local.regions = (region(result[.wholeTumor]), region(result[.tumorCore]), region(result[.enhancingTumor]))
    writeResult(local, to: out.pointer, size: out.size)
}

/// The caller's result struct, checked before the work starts.
func resultStruct(_ result: UnsafeMutablePointer<cmf_eval_result>?, in function: String) throws
    -> (pointer: UnsafeMutablePointer<cmf_eval_result>, size: Int) {
    let out = try required(result, "result", in: function)
    return (out, try structSize(UnsafeRawPointer(out), "result", in: function))
}

@_cdecl("cmf_evaluate_labels")
public func cmf_evaluate_labels(_ ref: UnsafePointer<UInt8>?, _ pred: UnsafePointer<UInt8>?,
                                _ nx: Int64, _ ny: Int64, _ nz: Int64, _ spacing: UnsafePointer<Double>?,
                                _ params: UnsafePointer<cmf_eval_params>?,
                                _ result: UnsafeMutablePointer<cmf_eval_result>?) -> cmf_status {
    guarded {
        let f = "cmf_evaluate_labels"
        let ref = try required(ref, "ref", in: f)
        let pred = try required(pred, "pred", in: f)
        let out = try resultStruct(result, in: f)
        let options = try evaluationOptions(params, in: f)
        let (shape, s) = try grid(nx, ny, nz, spacing: spacing, tooLarge: CMFError.invalidArgument, in: f)
        let r = try BraTSEvaluator(options: options).evaluate(
            reference: UnsafeBufferPointer(start: ref, count: shape.count),
            prediction: UnsafeBufferPointer(start: pred, count: shape.count),
            shape: shape, spacing: s, referenceName: "ref", predictionName: "pred")
        store(r, into: out)
    }
}

@_cdecl("cmf_evaluate_files")
public func cmf_evaluate_files(_ refPath: UnsafePointer<CChar>?, _ predPath: UnsafePointer<CChar>?,
                               _ params: UnsafePointer<cmf_eval_params>?,
                               _ result: UnsafeMutablePointer<cmf_eval_result>?) -> cmf_status {
    guarded {
        let f = "cmf_evaluate_files"
        let refFile = try CMFSegC.path(refPath, "ref_path", in: f)
        let predFile = try CMFSegC.path(predPath, "pred_path", in: f)
        let out = try resultStruct(result, in: f)
        let options = try evaluationOptions(params, in: f)
        let r = try BraTSEvaluator(options: options).evaluate(referencePath: refFile, predictionPath: predFile)
        store(r, into: out)
    }
}
