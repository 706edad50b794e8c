import ArgumentParser
import CMFSeg
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// `cmfseg train`: trains CMFF or one of its ablation baselines on case folders.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a segmentation network (CMFF or an ablation baseline) on BraTS-layout case folders.",
        discussion: """
        TASK is cmff (the method's segmentation stage: two U-Net branches fused with mask guidance), cmft (the method's first stage: a CycleGAN translating pair A = T1, T1ce into pair B = T2, FLAIR and back, trained without labels), single-pair (one U-Net on one modality pair, --pair a or b), unet4 (one U-Net on all four modalities) or no-mask (CMFF fusion without mask guidance).

        Every case folder of --data (and --val) holds <case>_t1, _t1ce, _t2, _flair and _seg NIfTI files, as `cmfseg phantom` writes them. All cases are read, checked and pre-processed once before training starts, exactly as inference pre-processes them, and kept in memory. Each step trains on one random patch (by default a third centred on tumour, as nnU-Net; --foreground), flipped and with intensity, gamma and bias-field augmentation; the patch of step k depends only on --seed and k.

        Segmentation networks minimise the soft Dice over edema, NCR/NET and ET (for CMFF the mean over both branches and the fusion) with Adam; with --distill, CMFF's branches also match the CMFT generators' features at three points (bottleneck, half and full resolution) through trained 1×1×1 adapters, λ × mean squared error (the adapters are not part of the model written). CMFT minimises the LSGAN adversarial plus 10 × L1 cycle losses of both generators, then trains both discriminators against a pool of 10 past fakes. Every --checkpoint-every steps OUT/checkpoint.safetensors (parameters, optimiser state, step) and the models are written atomically: OUT/model.safetensors (loads with `cmfseg segment --weights`), or for CMFT OUT/x2y, y2x, dx and dy.safetensors (the authors' names); --resume continues from a checkpoint exactly as an uninterrupted run would. Every --validate-every steps the --val cases are segmented whole and scored (Dice WT/TC/ET); the best model so far is OUT/best.safetensors. OUT/train.csv and OUT/validation.csv log every step and every validation. Ctrl-C (SIGINT) or SIGTERM stops after the current step with a checkpoint.
        """
    )

    @Argument(help: "cmff, cmft, single-pair, unet4 or no-mask.") var task: String
    @Option(name: .long, help: "Folder of training cases.") var data: String
    @Option(name: .long, help: "Folder of validation cases (scored by whole-case segmentation).") var val: String?
    @Option(name: .long, help: "Output folder (model, checkpoint, logs).") var out: String
    @Option(name: .long, help: "Patch side (a multiple of 16), or D H W.") var patch: [Int] = [64]
    @Option(name: .long, help: "Total optimiser steps.") var steps: Int
    @Option(name: .long, help: "Seed of initialisation and batches.") var seed: UInt64 = 0
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .customLong("base-filters"), help: "Base width F (default 16; 20 for unet4).") var baseFilters: Int?
    @Option(name: .long, help: "Pair of a single-pair network: a (t1, t1ce) or b (t2, flair).") var pair: String = "a"
    @Option(name: .long, help: "Adam learning rate.") var lr: Float = 1e-4
    @Option(name: .customLong("weight-decay"), help: "Adam weight decay (added to the gradient, as PyTorch).") var weightDecay: Float = 1e-5
    @Option(name: .customLong("clip-grad"), help: "Clip the global gradient norm to this value.") var clipGrad: Double?
    @Option(name: .long, parsing: .upToNextOption, help: "Weights to start from (tensors whose name and shape match).") var `init`: [String] = []
    @Option(name: .long, help: "Checkpoint to resume from.") var resume: String?
    @Option(name: .customLong("log-every"), help: "Print a log line every N steps.") var logEvery: Int = 10
    @Option(name: .customLong("validate-every"), help: "Validate every N steps (0: only at the end).") var validateEvery: Int = 500
    @Option(name: .customLong("checkpoint-every"), help: "Write a checkpoint every N steps.") var checkpointEvery: Int = 50
    @Option(name: .customLong("val-overlap"), help: "Window overlap of the validation segmentations.") var valOverlap: Double = 0.5
    @Option(name: .long, help: "Fraction of patches centred on a tumour voxel (the rest anywhere in the case).")
    var foreground: Double = 1.0 / 3
    @Option(name: .long, parsing: .upToNextOption, help: "CMFT generators G_AB and G_BA (x2y, y2x) that teach CMFF's branches by feature distillation; the branches may have another width.")
    var distill: [String] = []
    @Option(name: .customLong("distill-weight"), help: "Weight λ of the distillation loss beside the Dice loss.") var distillWeight: Double = 1
    @Flag(name: .customLong("no-augment"), help: "Train without augmentation.") var noAugment = false
    @Flag(name: .long, help: "Keep the cases in memory as float16 (half the memory).") var float16 = false

    func validate() throws {
        guard TrainingConfiguration.Task(rawValue: task) != nil else {
            throw ValidationError("TASK must be one of \(TrainingConfiguration.Task.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard Shape3(dhw: patchDHW) != nil else { throw ValidationError("--patch takes one positive size or three (D H W)") }
        guard pair == "a" || pair == "b" else { throw ValidationError("--pair must be a or b") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
    }

    /// `--patch` as D, H, W (one size: a cube).
    var patchDHW: [Int] { patch.count == 1 ? [patch[0], patch[0], patch[0]] : patch }

    func makeConfiguration() -> TrainingConfiguration {
        var c = TrainingConfiguration(dataFolder: data, outputFolder: out)
        c.task = TrainingConfiguration.Task(rawValue: task)!
        c.pair = pair == "a" ? 0 : 1
        c.validationFolder = val
        if let p = Shape3(dhw: patchDHW) { c.patch = p }
        c.steps = steps
        c.seed = seed
        c.threads = threads
        c.baseFilters = baseFilters
        c.adam = AdamOptions(learningRate: lr, weightDecay: weightDecay)
        c.maxGradientNorm = clipGrad
        c.initWeights = self.`init`
        c.logEvery = logEvery
        c.validateEvery = validateEvery
        c.checkpointEvery = checkpointEvery
        c.validationOverlap = valOverlap
        c.foregroundFraction = foreground
        c.distillGenerators = distill
        c.distillWeight = distillWeight
        if noAugment { c.augmentation = .none }
        c.storage = float16 ? .float16 : .float32
        return c
    }

    func run() throws {
        let trainer = try Trainer(makeConfiguration(), resume: resume)
        trainer.provenance["training_command"] = (["cmfseg"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        for n in trainer.notes { say("note: \(n)") }
        let c = trainer.configuration
        say("training \(c.task.rawValue) (\(trainer.learner.parameterCount) parameters, F = \(c.resolvedBaseFilters)) on patches \(c.patch.nz)x\(c.patch.ny)x\(c.patch.nx), steps \(trainer.step + 1)...\(c.steps), \(c.threads == 0 ? "default" : String(c.threads)) threads")
        let stop = StopSignal()
        let start = Date(), firstStep = trainer.step
        var window: [Double] = []
        var sums: [String: Double] = [:], count = 0
        let columns = trainer.learner.logColumns
        try trainer.run(shouldStop: { stop.requested }) { event in
            switch event {
            case .step(let r):
                window.append(r.seconds)
                if window.count > 20 { window.removeFirst() }
                for (k, v) in r.values { sums[k, default: 0] += v }
                count += 1
                if r.step % c.logEvery == 0 || r.step == c.steps {
                    // Means over the steps since the last line.
                    let perStep = window.reduce(0, +) / Double(window.count)
                    let values = columns.compactMap { k in sums[k].map { "\(k) \(String(cFormat: "%.4f", $0 / Double(count)))" } }
                    say("step \(r.step)/\(c.steps)  \(values.joined(separator: "  "))  \(String(cFormat: "%.2f s/step (%.3f steps/s)", perStep, 1 / perStep))  ETA \(Self.duration(perStep * Double(c.steps - r.step)))")
                    sums = [:]; count = 0
                }
            case .validation(let s, let v):
                say("validation at step \(s): Dice \(v.summary)")
            case .checkpoint(let s, let path):
                if stop.requested { say("stopped at step \(s); checkpoint \(path)") }
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        say("done: step \(trainer.step) in \(Self.duration(elapsed)) (\(trainer.step - firstStep) steps); models in \(c.outputFolder)\(trainer.bestValidation.map { "; best validation mean Dice \(String(cFormat: "%.3f", $0.dice)) at step \($0.step) (\(trainer.bestModelPath))" } ?? "")")
    }

    /// One line on stdout, unbuffered (a background run's log file shows it at once).
    func say(_ s: String) {
        _ = Array("cmfseg: \(s)\n".utf8).withUnsafeBytes { FileBytes.writeAll(STDOUT_FILENO, $0) }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(cFormat: "%02ld", t % 3600 / 60))m" : t >= 60 ? "\(t / 60)m\(String(cFormat: "%02ld", t % 60))s" : "\(t)s"
    }
}

/// SIGINT / SIGTERM ask the training loop to stop after the current step (a second signal
/// is ignored: the checkpoint must complete). The sources are set once in `init` and only
/// read afterwards, hence `@unchecked`.
final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private let sources: [any DispatchSourceSignal]

    init() {
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)   // delivered to the dispatch source instead
            return DispatchSource.makeSignalSource(signal: sig, queue: .global())
        }
        for s in sources {
            s.setEventHandler { [weak self] in self?.flag.store(true, ordering: .relaxed) }
            s.resume()
        }
    }

    var requested: Bool { flag.load(ordering: .relaxed) }
}
