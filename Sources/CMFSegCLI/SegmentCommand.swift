import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg segment`: one case, from the four (or two) MRI volumes to a BraTS label map.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment a brain tumour: T1, T1ce, T2, FLAIR NIfTI images in, a BraTS label map out.",
        discussion: """
        The images must share one voxel grid (co-registered, skull-stripped, as BraTS \
        provides them). Either modality pair may be omitted (--t1 + --t1ce, or --t2 + \
        --flair): the CMFF model then segments with the other pair's branch alone and says \
        so (on stdout and in the output's NIfTI description).

        Pipeline: crop to the brain box, per-modality z-score (2–98 percentile clipped \
        statistics), sliding windows (Gaussian weighted, --overlap; or --windows fitted: \
        fewer, smaller windows fitted to the brain, faster), optional mirroring \
        test-time augmentation (--tta, 8× slower), argmax, BraTS post-processing (brain \
        mask, small-component removal, small-core and small-ET relabelling; \
        --no-postprocess turns it off), labels written as uint8 with the input's geometry \
        (0, 1 NCR, 2 ED, 4 ET by default, or the model's class_values).

        Without --weights the default model bundled with the library is used.
        """
    )

    @Option(name: .long, help: "T1 image.") var t1: String?
    @Option(name: .long, help: "T1 contrast-enhanced image.") var t1ce: String?
    @Option(name: .long, help: "T2 image.") var t2: String?
    @Option(name: .long, help: "FLAIR image.") var flair: String?
    @Option(name: .long, help: "Output label map (.nii or .nii.gz), written atomically.") var out: String
    @Option(name: .long, parsing: .upToNextOption, help: "Weight files (safetensors), loaded together. Default: the bundled model.")
    var weights: [String] = []
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .long, help: "Overlap of neighbouring windows, in [0, 1).") var overlap: Double = 0.5
    @Option(name: .long, parsing: .upToNextOption, help: "Window size D H W (default: the model's window: metadata window, else its training patch).")
    var patch: [Int] = []
    @Option(name: .long, help: SlidingWindowOptions.Layout.help) var windows: SlidingWindowOptions.Layout = .grid
    @Flag(name: .long, help: "Mirroring test-time augmentation (8 flips per window).") var tta = false
    @Flag(name: .customLong("no-postprocess"), help: "Write the raw argmax, without BraTS post-processing.") var noPostprocess = false
    @Option(name: .customLong("min-et-voxels"), help: "Relabel enhancing tumour when it has fewer voxels than this (0: never).")
    var minETVoxels: Int = PostProcessOptions().minEnhancingVoxels
    @Option(name: .customLong("small-et-to"), help: "What small enhancing tumour becomes: ed (authors) or ncr (nnU-Net).")
    var smallETTo: String = "ed"
    @Option(name: .customLong("min-component-fraction"), help: "Drop tumour components smaller than this fraction of the largest (0: keep all; default: the authors' largest / 3).")
    var minComponentFraction: Double?
    @Flag(name: .customLong("nonfinite-to-zero"), help: "Treat NaN/Inf voxels as background instead of failing.") var nonfiniteToZero = false
    @Option(name: .long, help: "Also write class probabilities as a 4-D float32 NIfTI (one volume per network class).")
    var probabilities: String?
    @Option(name: .long, help: EngineName.help) var engine: EngineName = .onednn
    @Option(name: .long, help: ConvolutionPrecision.help) var precision: ConvolutionPrecision = .f32
    @OptionGroup var limits: LimitOptions
    @Flag(name: .long, help: "No progress line.") var quiet = false

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        guard overlap.isFinite, overlap >= 0, overlap < 1 else { throw ValidationError("--overlap must be in [0, 1)") }
        guard patch.isEmpty || Shape3(dhw: patch) != nil else {
            throw ValidationError("--patch needs three positive sizes D H W")
        }
        guard ["ed", "ncr"].contains(smallETTo) else { throw ValidationError("--small-et-to must be ed or ncr") }
        guard minETVoxels >= 0 else { throw ValidationError("--min-et-voxels must be >= 0") }
    }

    /// Library errors reach `CMFSegCommand.main`, which prints one `cmfseg: error:` line
    /// (the progress line ends first).
    func run() throws {
        try limits.apply()
        var paths: [Modality: String] = [:]
        for (m, p) in [(Modality.t1, t1), (.t1ce, t1ce), (.t2, t2), (.flair, flair)] { if let p { paths[m] = p } }
        let context = ForwardContext(engine: engine.engine, threads: threads)
        let start = Date()
        let model = try SegmentationModel.load(weights: weights, context: context)
        var options = SegmentationOptions(for: model)
        if let p = Shape3(dhw: patch) { options.window.patch = p }
        options.window.overlap = overlap
        options.window.layout = windows
        options.window.mirroring = tta
        options.threads = threads
        options.precision = precision
        options.preprocess.nonFinite = nonfiniteToZero ? .replaceWithZero : .error
        if noPostprocess {
            options.postProcess = nil
        } else {
            options.postProcess?.minEnhancingVoxels = minETVoxels
            options.postProcess?.smallEnhancingBecomes = smallETTo == "ncr" ? .necrosis : .edema
            if let f = minComponentFraction { options.postProcess?.componentCut = .fraction(f) }
        }
        guard !paths.isEmpty else {
            throw CMFError.invalidArgument("no input image given: pass --t1 and --t1ce, --t2 and --flair, or all four")
        }
        let result = try ProgressLine.showing("segmenting", quiet: quiet) { progress in
            try model.segmentFiles(paths, output: out, probabilitiesPath: probabilities, options: options,
                                   control: InferenceControl(progress: progress))
        }
        let seconds = Date().timeIntervalSince(start)
        print("\(out): \(result.summary)")
        if let probabilities { print("\(probabilities): class probabilities, \(result.probabilities?.count ?? 0) volumes") }
        print(String(cFormat: "time: %.1f s (", seconds) + result.timings.summary + ")")
    }
}
