import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg demo`: the main job on what ships with the library — generate the bundled sample
/// case, segment it with the default model, evaluate, print the scores — plus the scores of
/// the authors' CMFF network on a real BraTS 2018 case (a bundled label pair).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Segment and evaluate the bundled sample case with the bundled default model.",
        discussion: """
        1. Writes the sample case (phantom seed 2026, case 0: T1, T1ce, T2, FLAIR and its \
        reference labels on the BraTS grid) into --out.

        2. Segments it with the default model bundled with the library (or --weights), \
        scores the result against the sample's reference and draws the slice with the most \
        tumour (reference above, segmentation below) as a PNG beside it, and writes the \
        visual report of the case (report.html: slices in three planes, scores, volumes, the \
        model's provenance; see `cmfseg report`).

        3. Scores a bundled real BraTS 2018 pair: the authors' CMFF prediction against the \
        ground truth of one training case.
        """
    )

    static let sampleSeed: UInt64 = 2026
    static let realPair = (ref: "samples/brats2018_cmff_ref.nii.gz", pred: "samples/brats2018_cmff_pred.nii.gz")

    @Option(name: .long, help: "Folder for the sample case and the segmentation.") var out: String = "cmfseg-demo"
    @Option(name: .long, parsing: .upToNextOption, help: "Weight files (safetensors). Default: the bundled model.")
    var weights: [String] = []
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .long, help: ArgumentHelp("Coarser sample: voxels N times larger over the BraTS field of view (tests).", visibility: .hidden))
    var gridFactor: Int = 1
    @OptionGroup var limits: LimitOptions

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        guard (1...8).contains(gridFactor) else { throw ValidationError("--grid-factor must be 1–8") }
    }

    func run() throws {
        try limits.apply()
        // the model first: a missing or damaged one stops the demo before any work
        let model = try SegmentationModel.load(weights: weights, context: ForwardContext(threads: threads))
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        print("== 1. sample case")
        let generator = try PhantomGenerator(template: try TissueTemplate.sharedMNI152(), seed: Self.sampleSeed,
                                             grid: gridFactor == 1 ? .brats : .coarse(gridFactor), threads: threads)
        let sample = try generator.generate(index: 0)
        let caseFolder = try sample.write(into: folder, replace: true)
        let files = PhantomCase.files(name: caseFolder.lastPathComponent, in: folder)
        print("\(caseFolder.path): phantom seed \(Self.sampleSeed), case 0 (t1, t1ce, t2, flair, seg)")

        print("== 2. segment with the \(weights.isEmpty ? "bundled default" : "given") model, evaluate")
        let prediction = folder.appendingPathComponent("\(caseFolder.lastPathComponent)_pred.nii.gz").path
        let result = try ProgressLine.showing("segmenting") { progress in
            try model.segmentFiles(files.images.mapValues(\.path), output: prediction,
                                   options: segmentationOptions(for: model),
                                   control: InferenceControl(progress: progress))
        }
        print("\(prediction): \(result.summary)")
        let scores = try BraTSEvaluator().evaluate(referencePath: files.seg.path, predictionPath: prediction)
        print(scores.text())
        let png = folder.appendingPathComponent("\(caseFolder.lastPathComponent)_pred.png")
        let z = try writePreview(sample, prediction: result.labels, to: png)
        print("\(png.path): axial slice \(z), reference labels (top) and the segmentation (bottom)")
        let page = folder.appendingPathComponent("report.html").path
        try writeReport(sample, files: files, prediction: (prediction, result), model: model, to: page)
        print("\(page): the visual report (slices in three planes, scores, volumes, the model's provenance)")

        print("== 3. the authors' CMFF network on a real BraTS 2018 case (bundled label pair)")
        let ref = try BundledResources.file(Self.realPair.ref).path
        let pred = try BundledResources.file(Self.realPair.pred).path
        print(try BraTSEvaluator().evaluate(referencePath: ref, predictionPath: pred).text())
    }

    /// One axial slice through the most tumour: the contrasts with the reference labels above
    /// the same with the predicted ones. Returns the slice index.
    private func writePreview(_ sample: PhantomCase, prediction: LabelMap, to png: URL) throws -> Int {
        let z = SlicePreview.defaultSlice(labels: sample.labels, shape: sample.labels.shape)
        let reference = try SlicePreview.render(images: sample.images, labels: sample.labels, slice: z, zoom: gridFactor,
                                                labelsTitle: "FLAIR+REFERENCE")
        let predicted = try SlicePreview.render(images: sample.images, labels: prediction, slice: z, zoom: gridFactor,
                                                labelsTitle: "FLAIR+SEGMENTATION")
        try PNGWriter.write(try RasterImage.stacked(reference, above: predicted), to: png)
        return z
    }

    /// The report of the sample: its images and labels as generated, the segmentation as
    /// made, with the model's provenance and the segmentation's timings.
    private func writeReport(_ sample: PhantomCase, files: (folder: URL, images: [Modality: URL], seg: URL),
                             prediction: (path: String, result: SegmentationResult),
                             model: SegmentationModel, to page: String) throws {
        var input = CaseReport.Input(name: sample.name, images: sample.images, segmentation: prediction.result.labels,
                                     reference: sample.labels)
        input.files = Dictionary(uniqueKeysWithValues: files.images.map { ($0.key.rawValue, $0.value.path) })
        input.files["segmentation"] = prediction.path
        input.files["reference"] = files.seg.path
        input.segmentationDescription = prediction.result.summary
        let weightFiles = weights.isEmpty ? [try BundledResources.file(SegmentationModel.defaultModelResource).path] : weights
        input.model = CaseReport.Model(model, files: weightFiles)
        input.segmentationTimings = prediction.result.timings
        try CaseReport(input).write(to: page)
    }

    private func segmentationOptions(for model: SegmentationModel) -> SegmentationOptions {
        var options = SegmentationOptions(for: model)
        options.threads = threads
        return options
    }
}
