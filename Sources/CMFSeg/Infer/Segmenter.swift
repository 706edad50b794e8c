import FoundationEssentials

/// The whole segmentation of one case, from input volumes to the label map.
///
/// validate → pre-process (``Preprocessor``) → sliding-window probabilities
/// (``SlidingWindow``; the fitted layout first sizes the windows to the brain box) → argmax
/// (ties go to the lower class) → paste back into the input grid (background outside the
/// crop box) → post-process (``PostProcessor``) → class values.
public enum Segmenter {
    /// - Parameters:
    ///   - input: the case; every modality the predictor reads must be present.
    ///   - predictor: the network (for a missing pair, the other pair's single branch).
    ///   - control: progress (0 at the start, windows up to 0.95, 1 at the end) and cancel.
    /// - Throws: `CMFError` — see ``Preprocessor/run(_:modalities:options:minimumSize:sizeMultiple:)``,
    ///   ``SlidingWindow/predict(_:input:options:control:)``, ``PostProcessor``; `.aborted` when stopped.
    public static func segment(_ input: CaseInput, predictor: any PatchPredictor,
                               options: SegmentationOptions = SegmentationOptions(),
                               control: InferenceControl = InferenceControl()) throws -> SegmentationResult {
        try segment(input, predictor: predictor, options: options, control: control, route: nil, description: nil)
    }

    /// The pipeline, for a bare predictor and for a model (``SegmentationModel/segment(_:options:control:)``).
    /// - Parameters:
    ///   - route: the model's route, stored in the result (nil for a bare predictor).
    ///   - description: what produced the result, for its `summary` (nil: the modalities
    ///     used and missing).
    static func segment(_ input: CaseInput, predictor: any PatchPredictor, options: SegmentationOptions,
                        control: InferenceControl, route: SegmentationModel.Route?,
                        description: String?) throws -> SegmentationResult {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }  // activations reused, not page-faulted again
        try options.window.validate(sizeMultiple: predictor.sizeMultiple)
        try options.postProcess?.validate()
        let k = predictor.classCount
        guard options.classValues.count == k else {
            throw CMFError.invalidArgument("the model has \(k) classes but \(options.classValues.count) class values (\(options.classValues.map(String.init).joined(separator: ",")))")
        }
        if options.postProcess != nil, k != 4 {
            throw CMFError.invalidArgument("BraTS post-processing needs the 4 classes background, edema, NCR/NET, ET; this model has \(k) (switch post-processing off)")
        }
        try control.report(fraction: 0, detail: "before starting")
        var timings = SegmentationTimings()
        var clock = Date()
        func lap() -> Double { let now = Date(); defer { clock = now }; return now.timeIntervalSince(clock) }
        // The fitted layout sizes its windows from the brain box, then slides them as a grid
        // without overlap; the case is padded to at least one window.
        var window = options.window
        let multiple = predictor.sizeMultiple
        let prepared = try Preprocessor.run(input, modalities: predictor.modalities, options: options.preprocess,
                                            minimumSizeForCrop: { crop in
                                                if window.layout == .fitted {
                                                    window.patch = window.fittedPatch(crop: crop, sizeMultiple: multiple)
                                                    window.overlap = 0
                                                    window.layout = .grid
                                                }
                                                return window.patch
                                            }, sizeMultiple: 1, threads: options.threads)
        var windowControl = control
        if let progress = control.progress {
            windowControl.progress = { progress(0.95 * $0) }
        }
        timings.preprocess = lap()
        let prediction = try SlidingWindow.predict(predictor, input: prepared.input, options: window, control: windowControl)
        let probs = prediction.probabilities
        timings.network = lap()
        timings.windows = prediction.windows
        timings.window = window.patch
        timings.networkCalls = prediction.networkCalls
        try control.check(done: 0, of: 0)

        // Argmax on the padded crop, then paste the crop into the full grid.
        let pad = prepared.paddedShape, grid = prepared.gridShape
        var cropClasses = [UInt8](repeating: 0, count: pad.count)
        probs.storage.withUnsafeBufferPointer { p in
            for i in 0..<pad.count {
                var best = 0
                var bestValue = p[i]
                for c in 1..<max(k, 1) where p[c * pad.count + i] > bestValue {
                    best = c
                    bestValue = p[c * pad.count + i]
                }
                cropClasses[i] = UInt8(best)
            }
        }
        var classes = [UInt8](repeating: 0, count: grid.count)
        prepared.box.paste(cropClasses, partGrid: pad, into: &classes, grid: grid)
        if let post = options.postProcess {
            try PostProcessor.apply(&classes, grid: grid, brainMask: prepared.brainMask, options: post, threads: options.threads)
        }
        let values = classes.map { options.classValues[Int($0)] }

        var probabilityVolumes: [ImageVolume]?
        if options.keepProbabilities {
            probabilityVolumes = (0..<k).map { c in
                var full = [Float](repeating: c == 0 ? 1 : 0, count: grid.count)
                let channel = Array(probs.storage[(c * pad.count)..<((c + 1) * pad.count)])
                prepared.box.paste(channel, partGrid: pad, into: &full, grid: grid)
                return ImageVolume(shape: grid, geometry: prepared.geometry, voxels: full)
            }
        }
        timings.postprocess = lap()
        try control.report(fraction: 1, detail: "at the end")
        let used = predictor.modalities
        let missing = Modality.allCases.filter { input.volumes[$0] == nil }
        return SegmentationResult(
            labels: LabelMap(shape: grid, geometry: prepared.geometry, voxels: values),
            probabilities: probabilityVolumes,
            modalitiesUsed: used,
            modalitiesMissing: missing,
            summary: summary(description ?? describe(used: used, missing: missing)),
            route: route,
            timings: timings)
    }

    /// The one-line description stored in outputs: "cmfseg VERSION: what produced it", at
    /// most 79 characters (NIfTI-1 `descrip` holds 80 bytes with its NUL).
    static func summary(_ description: String) -> String {
        String("cmfseg \(CMFSegVersion.string): \(description)".prefix(79))
    }

    /// What a bare predictor read: "all four modalities (t1,t1ce,t2,flair)", or
    /// "single pair t2,flair (t1,t1ce missing)".
    static func describe(used: [Modality], missing: [Modality]) -> String {
        let u = used.map(\.rawValue).joined(separator: ",")
        if Set(used) == Set(Modality.allCases) { return "all four modalities (\(u))" }
        let m = missing.map(\.rawValue).joined(separator: ",")
        return "single pair \(u)" + (missing.isEmpty ? "" : " (\(m) missing)")
    }
}
