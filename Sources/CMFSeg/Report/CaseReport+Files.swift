/// Reports from files: what `cmfseg report`, `cmf_write_report` and the Python binding run.
extension CaseReport {
    /// Reads a case folder (``CaseFolder``: T1, T1ce, T2, FLAIR), a segmentation, optionally
    /// a reference and the weights of the model that made the segmentation, and makes the
    /// report.
    /// - Parameters:
    ///   - weights: the model's safetensors files (its provenance goes on the page); empty: none.
    /// - Throws: `CMFError.io` / `.format` for missing or unreadable files (a missing contrast
    ///   names the file expected), the errors of ``init(_:)`` and of the model's loading.
    public init(caseDirectory: String, segmentation: String, reference: String?, weights: [String] = [],
                options: EvaluationOptions = EvaluationOptions()) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let folder = try CaseFolder(caseDirectory)
        var files: [String: String] = [:]
        var images: [Modality: ImageVolume] = [:]
        for m in Modality.allCases {
            guard let path = folder.images[m] else {
                throw CMFError.io("case folder \(caseDirectory): no \(m.rawValue) image (\(folder.expectedFile(m.rawValue)))")
            }
            files[m.rawValue] = path
            images[m] = try Nifti.readImage(path)
        }
        files["segmentation"] = segmentation
        let labels = try Nifti.readLabels(segmentation)
        let description = try Nifti.readHeader(segmentation).descrip
        var input = Input(name: folder.name, images: images, segmentation: labels)
        if let reference {
            files["reference"] = reference
            input.reference = try Nifti.readLabels(reference)
        }
        if !weights.isEmpty {
            input.model = Model(try SegmentationModel(weightPaths: weights), files: weights)
        }
        input.files = files
        input.segmentationDescription = description
        input.options = options
        input.readSeconds = Self.seconds(clock.now - start)
        try self.init(input)
    }

    /// Writes ``html()`` to `path`, atomically: the complete page or nothing.
    /// - Throws: `CMFError.invalidArgument` unless `path` ends in .html or .htm; `.io` when
    ///   it cannot be written.
    public func write(to path: String) throws {
        try Self.checkOutput(path, inputs: [])
        try AtomicFile.write([(path: path, content: .bytes(Array(html().utf8)))])
    }

    /// Makes the report of the files and writes it to `out`; the destination is checked
    /// before anything is read.
    /// - Throws: as ``init(caseDirectory:segmentation:reference:weights:options:)`` and
    ///   ``write(to:)``; `.invalidArgument` when `out` is one of the inputs.
    @discardableResult
    public static func write(caseDirectory: String, segmentation: String, reference: String?, weights: [String] = [],
                             options: EvaluationOptions = EvaluationOptions(), to out: String) throws -> CaseReport {
        try checkOutput(out, inputs: [segmentation] + (reference.map { [$0] } ?? []) + weights)
        let report = try CaseReport(caseDirectory: caseDirectory, segmentation: segmentation, reference: reference,
                                    weights: weights, options: options)
        try report.write(to: out)
        return report
    }

    private static func checkOutput(_ out: String, inputs: [String]) throws {
        let lower = out.lowercased()
        guard lower.hasSuffix(".html") || lower.hasSuffix(".htm") else {
            throw CMFError.invalidArgument("report \(out): the file name must end in .html")
        }
        try AtomicFile.checkDestinations([out], inputs: inputs)
    }
}
