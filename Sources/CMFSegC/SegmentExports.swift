import CMFSeg
import CMFSegABI
import Glibc

// cmf_model_*, cmf_segment*: models and segmentation (include/cmfseg.h, "Models and segmentation").

/// What a `cmf_model *` points to: a retained box around an immutable SegmentationModel,
/// with the C strings the model's queries lend out (made once, freed with the box).
final class ModelBox {
    let model: SegmentationModel
    let architecture: UnsafeMutablePointer<CChar>
    /// Metadata keys in byte order, each with its value.
    let metadata: [(key: UnsafeMutablePointer<CChar>, value: UnsafeMutablePointer<CChar>)]
    let notes: [UnsafeMutablePointer<CChar>]

    init(_ model: SegmentationModel) {
        self.model = model
        self.architecture = strdup(model.architecture.rawValue)
        let meta = model.network.describedMetadata()
        self.metadata = meta.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { (strdup($0)!, strdup(meta[$0]!)!) }
        self.notes = model.notes.map { strdup($0)! }
    }

    deinit {
        free(architecture)
        for (k, v) in metadata { free(k); free(v) }
        notes.forEach { free($0) }
    }

    static func handle(_ model: SegmentationModel) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(ModelBox(model)).toOpaque())
    }

    static func from(_ handle: OpaquePointer) -> ModelBox {
        Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

@_cdecl("cmf_model_load")
public func cmf_model_load(_ paths: UnsafePointer<UnsafePointer<CChar>?>?, _ n: Int,
                           _ out: UnsafeMutablePointer<OpaquePointer?>?) -> cmf_status {
    guarded {
        let f = "cmf_model_load"
        let out = try required(out, "out", in: f)
        let paths = try required(paths, "paths", in: f)
        guard n >= 1 else { throw CMFError.invalidArgument("\(f): n is 0; give at least one weight file") }
        guard n <= 4096 else { throw CMFError.invalidArgument("\(f): n = \(n) weight files is implausible") }
        let files = try (0..<n).map { try path(paths[$0], "paths[\($0)]", in: f) }
        out.pointee = ModelBox.handle(try SegmentationModel(weightPaths: files))
    }
}

@_cdecl("cmf_model_load_default")
public func cmf_model_load_default(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> cmf_status {
    guarded {
        let out = try required(out, "out", in: "cmf_model_load_default")
        out.pointee = ModelBox.handle(try SegmentationModel.loadDefault())
    }
}

@_cdecl("cmf_model_free")
public func cmf_model_free(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(model)).release()
}

@_cdecl("cmf_model_architecture")
public func cmf_model_architecture(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let model else { return nil }
    return UnsafePointer(ModelBox.from(model).architecture)
}

@_cdecl("cmf_model_metadata_count")
public func cmf_model_metadata_count(_ model: OpaquePointer?) -> Int {
    guard let model else { return 0 }
    return ModelBox.from(model).metadata.count
}

@_cdecl("cmf_model_metadata_key")
public func cmf_model_metadata_key(_ model: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let model else { return nil }
    let entries = ModelBox.from(model).metadata
    return entries.indices.contains(index) ? UnsafePointer(entries[index].key) : nil
}

@_cdecl("cmf_model_metadata")
public func cmf_model_metadata(_ model: OpaquePointer?, _ key: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let model, let key else { return nil }
    return ModelBox.from(model).metadata.first { strcmp($0.key, key) == 0 }.map { UnsafePointer($0.value) }
}

@_cdecl("cmf_model_note_count")
public func cmf_model_note_count(_ model: OpaquePointer?) -> Int {
    guard let model else { return 0 }
    return ModelBox.from(model).notes.count
}

@_cdecl("cmf_model_note")
public func cmf_model_note(_ model: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let model else { return nil }
    let notes = ModelBox.from(model).notes
    return notes.indices.contains(index) ? UnsafePointer(notes[index]) : nil
}

@_cdecl("cmf_model_class_count")
public func cmf_model_class_count(_ model: OpaquePointer?) -> Int32 {
    guard let model else { return 0 }
    return Int32(ModelBox.from(model).model.classCount)
}

@_cdecl("cmf_segment_default_params")
public func cmf_segment_default_params() -> cmf_segment_params {
    let post = PostProcessOptions()
    return cmf_segment_params(
        struct_size: UInt32(MemoryLayout<cmf_segment_params>.size),
        threads: 0,
        overlap: Float(SlidingWindowOptions().overlap),
        patch: (0, 0, 0),
        tta: 0,
        postprocess: 1,
        min_component_fraction: Float(post.componentCut.fraction),
        grouping_dilation: Int32(post.groupingDilation),
        connectivity: Int32(post.connectivity),
        min_core_voxels: Int32(post.minCoreVoxels),
        min_et_voxels: Int32(post.minEnhancingVoxels),
        small_et_to_ncr: post.smallEnhancingBecomes == .necrosis ? 1 : 0,
        nonfinite_to_zero: 0,
        progress: nil,
        user_data: nil,
        cancel: nil,
        max_voxels: 0,
        max_bytes: 0,
        precision: Int32(CMF_PRECISION_F32.rawValue),
        windows: Int32(CMF_WINDOWS_GRID.rawValue),
        reserved: (0, 0, 0, 0, 0, 0, 0))
}

/// The pipeline options a params struct asks for, on top of the model's defaults.
private func options(_ p: cmf_segment_params, model: SegmentationModel, in f: String) throws -> (SegmentationOptions, InferenceControl) {
    var o = SegmentationOptions(for: model)
    o.threads = Int(p.threads)
    o.window.overlap = Double(p.overlap)
    o.window.mirroring = p.tta != 0
    let patch = [Int(p.patch.0), Int(p.patch.1), Int(p.patch.2)]
    if patch != [0, 0, 0] {
        guard let shape = Shape3(dhw: patch) else {
            throw CMFError.invalidArgument("\(f): params->patch \(patch) must be three positive sizes, or 0,0,0 for the model's")
        }
        o.window.patch = shape
    }
    o.preprocess.nonFinite = p.nonfinite_to_zero != 0 ? .replaceWithZero : .error
    try requireZero(p.reserved, in: f)
    switch p.windows {
    case Int32(CMF_WINDOWS_GRID.rawValue): o.window.layout = .grid
    case Int32(CMF_WINDOWS_FITTED.rawValue): o.window.layout = .fitted
    default:
        throw CMFError.invalidArgument("\(f): params->windows \(p.windows) is not a cmf_windows (CMF_WINDOWS_GRID = 0, CMF_WINDOWS_FITTED = 1)")
    }
    switch p.precision {
    case Int32(CMF_PRECISION_F32.rawValue): o.precision = .f32
    case Int32(CMF_PRECISION_BF16.rawValue): o.precision = .bf16
    default:
        throw CMFError.invalidArgument("\(f): params->precision \(p.precision) is not a cmf_precision (CMF_PRECISION_F32 = 0, CMF_PRECISION_BF16 = 1)")
    }
    o.limits = try ResourceLimits.forCall(maxVoxels: Int(p.max_voxels), maxBytes: Int(p.max_bytes))
    if p.postprocess == 0 {
        o.postProcess = nil
    } else {
        var post = PostProcessOptions()
        // A fraction left at its default keeps the default rule (the authors' largest / 3).
        if p.min_component_fraction != cmf_segment_default_params().min_component_fraction {
            post.componentCut = .fraction(Double(p.min_component_fraction))
        }
        post.groupingDilation = Int(p.grouping_dilation)
        post.connectivity = Int(p.connectivity)
        post.minCoreVoxels = Int(p.min_core_voxels)
        post.minEnhancingVoxels = Int(p.min_et_voxels)
        post.smallEnhancingBecomes = p.small_et_to_ncr != 0 ? .necrosis : .edema
        o.postProcess = post
    }
    var control = InferenceControl()
    if let callback = p.progress {
        let user = p.user_data
        control.progress = { callback(Float($0), user) != 0 }
    }
    if let flag = p.cancel {
        let cancel = HostCancelFlag(UnsafePointer(flag))
        control.isCancelled = { cancel.isSet }
    }
    return (o, control)
}

/// Checks the caller's info struct before the work starts.
private func infoSize(_ info: UnsafeMutablePointer<cmf_segment_info>?, in f: String) throws -> Int? {
    guard let info else { return nil }
    return try structSize(UnsafeRawPointer(info), "info_out", in: f)
}

/// The C spelling of a route. A model's segmentation always has one; a result without one
/// would be a bug, reported as CMF_ERR_INTERNAL rather than passed off as the fusion.
private func cRoute(_ route: SegmentationModel.Route?) throws -> cmf_route {
    switch route {
    case .fused: return CMF_ROUTE_FUSED
    case .branchA: return CMF_ROUTE_BRANCH_A
    case .branchB: return CMF_ROUTE_BRANCH_B
    case .single: return CMF_ROUTE_SINGLE
    case nil: throw CMFError.internal("the segmentation result names no route")
    }
}

private func fillInfo(_ info: UnsafeMutablePointer<cmf_segment_info>?, size: Int?, result: SegmentationResult, classCount: Int) throws {
    guard let info, let size else { return }
    var local = cmf_segment_info()
    local.route = Int32(try cRoute(result.route).rawValue)
    let bits: [Modality: UInt32] = [.t1: CMF_MODALITY_T1, .t1ce: CMF_MODALITY_T1CE, .t2: CMF_MODALITY_T2, .flair: CMF_MODALITY_FLAIR]
    local.modalities_used = result.modalitiesUsed.reduce(0) { $0 | (bits[$1] ?? 0) }
    local.class_count = Int32(classCount)
    withUnsafeMutableBytes(of: &local.summary) { buf in
        let utf8 = Array(result.summary.utf8.prefix(buf.count - 1))
        buf.initializeMemory(as: UInt8.self, repeating: 0)
        buf.copyBytes(from: utf8)
    }
    writeResult(local, to: info, size: size)
}

@_cdecl("cmf_segment")
public func cmf_segment(_ model: OpaquePointer?, _ t1: OpaquePointer?, _ t1ce: OpaquePointer?, _ t2: OpaquePointer?,
                        _ flair: OpaquePointer?, _ params: UnsafePointer<cmf_segment_params>?,
                        _ labelsOut: UnsafeMutablePointer<OpaquePointer?>?,
                        _ probabilitiesOut: UnsafeMutablePointer<OpaquePointer?>?,
                        _ infoOut: UnsafeMutablePointer<cmf_segment_info>?) -> cmf_status {
    guarded {
        let f = "cmf_segment"
        let box = ModelBox.from(try required(model, "model", in: f))
        let labelsOut = try required(labelsOut, "labels_out", in: f)
        let size = try infoSize(infoOut, in: f)
        let p = try readParams(params, over: cmf_segment_default_params(), "cmf_segment", in: f)
        let (defaults, control) = try options(p, model: box.model, in: f)
        var o = defaults
        o.keepProbabilities = probabilitiesOut != nil
        var volumes: [Modality: ImageVolume] = [:]
        for (m, h) in [(Modality.t1, t1), (.t1ce, t1ce), (.t2, t2), (.flair, flair)] {
            if let h { volumes[m] = VolumeBox.from(h).volume }
        }
        guard !volumes.isEmpty else {
            throw CMFError.invalidArgument("\(f): every image is NULL; give t1 + t1ce, t2 + flair, or all four")
        }
        let input = CaseInput(volumes: volumes, sources: Dictionary(uniqueKeysWithValues: volumes.keys.map { ($0, "\($0.rawValue) volume") }))
        let result = try box.model.segment(input, options: o, control: control)
        try fillInfo(infoOut, size: size, result: result, classCount: box.model.classCount)
        labelsOut.pointee = VolumeBox.handle(ImageVolume(shape: result.labels.shape, geometry: result.labels.geometry,
                                                         voxels: result.labels.voxels.map(Float.init)))
        if let probabilitiesOut, let probs = result.probabilities {
            for (c, v) in probs.enumerated() { probabilitiesOut[c] = VolumeBox.handle(v) }
        }
    }
}

@_cdecl("cmf_segment_files")
public func cmf_segment_files(_ model: OpaquePointer?, _ t1: UnsafePointer<CChar>?, _ t1ce: UnsafePointer<CChar>?,
                              _ t2: UnsafePointer<CChar>?, _ flair: UnsafePointer<CChar>?,
                              _ labelsPath: UnsafePointer<CChar>?, _ probabilitiesPath: UnsafePointer<CChar>?,
                              _ params: UnsafePointer<cmf_segment_params>?,
                              _ infoOut: UnsafeMutablePointer<cmf_segment_info>?) -> cmf_status {
    guarded {
        let f = "cmf_segment_files"
        let box = ModelBox.from(try required(model, "model", in: f))
        let out = try path(labelsPath, "labels_path", in: f)
        let prob = try probabilitiesPath.map { try path($0, "probabilities_path", in: f) }
        let size = try infoSize(infoOut, in: f)
        let p = try readParams(params, over: cmf_segment_default_params(), "cmf_segment", in: f)
        let (o, control) = try options(p, model: box.model, in: f)
        var paths: [Modality: String] = [:]
        for (m, s) in [(Modality.t1, t1), (.t1ce, t1ce), (.t2, t2), (.flair, flair)] {
            if let s { paths[m] = try path(s, "\(m.rawValue)_path", in: f) }
        }
        let result = try box.model.segmentFiles(paths, output: out, probabilitiesPath: prob, options: o, control: control)
        try fillInfo(infoOut, size: size, result: result, classCount: box.model.classCount)
    }
}
