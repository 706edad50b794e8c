import Foundation

/// The whole segmentation of one case, from input volumes to the label map.
///
/// validate → pre-process (``Preprocessor``) → sliding-window probabilities
/// (``SlidingWindow``) → argmax (ties go to the lower class) → paste back into the input grid
/// (background outside the crop box) → post-process (``PostProcessor``) → class values.
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
        let prepared = try Preprocessor.run(input, modalities: predictor.modalities, options: options.preprocess,
                                            minimumSize: options.window.patch, sizeMultiple: 1)
        var windowControl = control
        if let progress = control.progress {
            windowControl.progress = { progress(0.95 * $0) }
        }
        timings.preprocess = lap()
        let probs = try SlidingWindow.predict(predictor, input: prepared.input, options: options.window, control: windowControl)
        timings.network = lap()
        let p = options.window.patch, pad0 = prepared.paddedShape
        timings.windows = SlidingWindow.starts(size: pad0.nx, patch: p.nx, overlap: options.window.overlap).count
            * SlidingWindow.starts(size: pad0.ny, patch: p.ny, overlap: options.window.overlap).count
            * SlidingWindow.starts(size: pad0.nz, patch: p.nz, overlap: options.window.overlap).count
        timings.networkCalls = timings.windows * (options.window.mirroring ? 8 : 1)
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
            summary: summary(used: used, missing: missing),
            timings: timings)
    }

    /// The one-line description stored in outputs (≤ 79 characters).
    static func summary(used: [Modality], missing: [Modality]) -> String {
        let u = used.map(\.rawValue).joined(separator: ",")
        var s: String
        if Set(used) == Set(Modality.allCases) {
            s = "cmfseg \(CMFSegVersion.string): all four modalities (\(u))"
        } else {
            s = "cmfseg \(CMFSegVersion.string): single pair \(u)"
            if !missing.isEmpty { s += " (\(missing.map(\.rawValue).joined(separator: ",")) missing)" }
        }
        return String(s.prefix(79))
    }
}
