import ArgumentParser
import CMFSeg
import Foundation

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

        2. Segments it with the default model bundled with the library (or --weights) and \
        scores the result against the sample's reference. This build bundles no default \
        model yet: without --weights the step says so and is skipped.

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

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
    }

    func run() throws {
        ProcessMemory.keepFreedMemory()
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        print("== 1. sample case")
        let generator = try PhantomGenerator(template: try TissueTemplate.sharedMNI152(), seed: Self.sampleSeed,
                                             threads: threads)
        let sample = try generator.generate(index: 0)
        let caseFolder = try sample.write(into: folder, replace: true)
        let files = PhantomCase.files(name: caseFolder.lastPathComponent, in: folder)
        print("\(caseFolder.path): phantom seed \(Self.sampleSeed), case 0 (t1, t1ce, t2, flair, seg)")

        print("== 2. segment with the \(weights.isEmpty ? "bundled default" : "given") model, evaluate")
        if let model = try loadModel() {
            let prediction = folder.appendingPathComponent("\(caseFolder.lastPathComponent)_pred.nii.gz").path
            let result = try ProgressLine.showing("segmenting") { progress in
                try model.segmentFiles(files.images.mapValues(\.path), output: prediction,
                                       options: segmentationOptions(for: model),
                                       control: InferenceControl(progress: progress))
            }
            print("\(prediction): \(result.summary)")
            let scores = try BraTSEvaluator().evaluate(referencePath: files.seg.path, predictionPath: prediction)
            print(scores.text())
        }

        print("== 3. the authors' CMFF network on a real BraTS 2018 case (bundled label pair)")
        let ref = try BundledResources.file(Self.realPair.ref).path
        let pred = try BundledResources.file(Self.realPair.pred).path
        print(try BraTSEvaluator().evaluate(referencePath: ref, predictionPath: pred).text())
    }

    /// The model to segment with, or nil — said on stdout — when no default model is bundled.
    private func loadModel() throws -> SegmentationModel? {
        do {
            return try SegmentationModel.load(weights: weights, context: ForwardContext(threads: threads))
        } catch CMFError.unsupported(let message) where weights.isEmpty {
            print("skipped: \(message)")
            return nil
        }
    }

    private func segmentationOptions(for model: SegmentationModel) -> SegmentationOptions {
        var options = SegmentationOptions(for: model)
        options.threads = threads
        return options
    }
}
