import FoundationEssentials

extension SegmentationModel {
    /// Segments a case with the part of the network its modalities allow: the CMFF fusion
    /// with all four, else the single branch of the pair that is present
    /// (``route(available:)``). The result's `summary` and `route` say which.
    ///
    /// Thread safety: a model is immutable; concurrent calls on one model are safe.
    /// - Parameters:
    ///   - options: usually ``SegmentationOptions/init(for:)`` with changes; `threads > 0`
    ///     overrides the model's forward-pass thread count for this call.
    /// - Throws: `CMFError` of the pipeline (``Segmenter/segment(_:predictor:options:control:)``),
    ///   `.invalidArgument` when neither pair is complete.
    public func segment(_ input: CaseInput, options: SegmentationOptions, control: InferenceControl = InferenceControl()) throws -> SegmentationResult {
        for (a, b) in [(Modality.t1, Modality.t1ce), (.t1ce, .t1), (.t2, .flair), (.flair, .t2)]
        where input.volumes[a] != nil && input.volumes[b] == nil {
            throw CMFError.invalidArgument("\(input.name(a)) is given without \(b.rawValue): give both images of a pair (t1 + t1ce, t2 + flair) or neither")
        }
        if let grid = input.volumes.values.first?.shape {
            try checkLimits(grid: grid, inputBytes: 0, options: options, what: "segmenting a \(grid) case")
        }
        var predictor = try predictor(available: Set(input.available), threads: options.threads,
                                      precision: options.precision)
        predictor.context.isCancelled = control.isCancelled   // polled between layers too
        let result = try Segmenter.segment(input, predictor: predictor, options: options, control: control,
                                           route: predictor.route, description: describe(predictor.route))
        if !result.modalitiesMissing.isEmpty {
            LibraryLog.note("\(result.modalitiesMissing.map(\.rawValue).joined(separator: ", ")) not given: segmented with \(result.modalitiesUsed.map(\.rawValue).joined(separator: "+")) only")
        }
        return result
    }

    /// Reads the given NIfTI files, segments them and writes the label map (and the
    /// probabilities when `probabilitiesPath` is set) atomically. Outputs are checked before
    /// the computation starts; on any failure nothing is written.
    /// - Throws: as ``segment(_:options:control:)``, plus reading and writing errors.
    public func segmentFiles(_ paths: [Modality: String], output: String, probabilitiesPath: String? = nil,
                             options: SegmentationOptions, control: InferenceControl = InferenceControl()) throws -> SegmentationResult {
        try NiftiPaths.requireSingleFile(output, what: "the label map")
        if let probabilitiesPath { try NiftiPaths.requireSingleFile(probabilitiesPath, what: "the probabilities (a 4-D image)") }
        try AtomicFile.checkDestinations([output] + (probabilitiesPath.map { [$0] } ?? []), inputs: Array(paths.values))
        var options = options
        if probabilitiesPath != nil { options.keepProbabilities = true }   // before the estimate, which counts them
        try checkLimits(files: paths, options: options)
        var clock = Date()
        let input = try CaseInput(files: paths, limits: options.limits)
        let read = Date().timeIntervalSince(clock)
        var result = try segment(input, options: options, control: control)
        clock = Date()
        try result.write(labelsTo: output, probabilitiesTo: probabilitiesPath)
        result.timings.read = read
        result.timings.write = Date().timeIntervalSince(clock)
        return result
    }
}
