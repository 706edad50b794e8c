import FoundationEssentials

/// Trains either stage of the method on phantom or BraTS folders — a segmentation network
/// (CMFF or an ablation baseline, ``SegmentationLearner``) or the CMFT CycleGAN
/// (``CycleGANLearner``): batches from ``PatchSampler`` prepared in the background, CSV logs,
/// validation by whole-case segmentation scored with ``BraTSEvaluator``, atomic checkpoints
/// and exact resumption. The CLI's `cmfseg train` is a thin shell over this type.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public private(set) var learner: any Learner
    /// The segmentation network being trained (nil for CMFT).
    public var network: Network? { (learner as? SegmentationLearner)?.network }
    /// Steps done so far.
    public private(set) var step = 0
    public let dataset: TrainingDataset
    public let sampler: PatchSampler
    /// What the set-up did (weights copied, resumed step, memory held); for the log.
    public private(set) var notes: [String] = []
    /// Extra provenance written into the model's metadata (e.g. the command line).
    public var provenance: [String: String] = [:]
    /// Best validation mean Dice so far (WT, TC, ET averaged) and its step.
    public private(set) var bestValidation: (dice: Double, step: Int)?
    let context: ForwardContext

    /// Files in `outputFolder`.
    public var modelPath: String { configuration.outputFolder + "/model.safetensors" }
    public var bestModelPath: String { configuration.outputFolder + "/best.safetensors" }
    public var checkpointPath: String { configuration.outputFolder + "/checkpoint.safetensors" }
    public var logPath: String { configuration.outputFolder + "/train.csv" }
    public var validationLogPath: String { configuration.outputFolder + "/validation.csv" }

    /// Loads and checks the data (every case, before any training), builds the network
    /// (fresh from the seed, then `initWeights`), and resumes from `resume` when given.
    /// - Throws: `CMFError` naming the bad case, file or setting.
    public init(_ configuration: TrainingConfiguration, resume: String? = nil,
                engine: any ConvolutionEngine = defaultConvolutionEngine()) throws {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration
        context = ForwardContext(engine: engine, threads: c.threads)
        let modalities = c.pairs.flatMap { $0 }
        dataset = try TrainingDataset.load(folder: c.dataFolder, modalities: modalities, minimumSize: c.patch,
                                           storage: c.storage, threads: c.threads)
        if let v = c.validationFolder { _ = try Self.validationCases(v) }
        sampler = try PatchSampler(dataset: dataset, patch: c.patch, seed: c.seed,
                                   foregroundFraction: c.foregroundFraction, augmentation: c.augmentation)
        notes.append("\(dataset.cases.count) training cases from \(c.dataFolder), \(String(cFormat: "%.2f", Double(dataset.memoryBytes) / 1_073_741_824)) GiB in memory (\(c.storage.rawValue))")
        if c.task == .cmft {
            learner = CycleGANLearner(gan: CycleGAN(channels: c.pairs[0].count, baseFilters: c.resolvedBaseFilters, seed: c.seed),
                                      adam: c.adam, seed: c.seed)
        } else {
            let net = try Network.random(c.task.architecture, inChannels: c.pairs[0].count, classes: 4,
                                         baseFilters: c.resolvedBaseFilters, seed: c.seed)
            learner = SegmentationLearner(network: net, optimizer: AdamOptimizer(options: c.adam, maxGradientNorm: c.maxGradientNorm),
                                          distillation: try Self.distillation(c, student: net))
        }
        if !c.initWeights.isEmpty {
            notes.append(try learner.initialise(from: WeightSet.load(paths: c.initWeights)))
        }
        if let resume {
            let ck = try TrainingCheckpoint.read(path: resume)
            try ck.checkMatches(c, path: resume)
            do { try learner.restore(ck.tensors, step: ck.step) } catch let e as CMFError { throw CMFError.format("\(resume): \(e.message)") }
            step = ck.step
            if let b = ck.metadata["best_validation_dice"].flatMap(Double.init), let s = ck.metadata["best_validation_step"].flatMap(Int.init) {
                bestValidation = (b, s)
            }
            notes.append("resumed from \(resume) at step \(step)")
        }
    }

    /// The generators' teaching of `student`'s branches, when the configuration asks for it.
    static func distillation(_ c: TrainingConfiguration, student: Network) throws -> FeatureDistillation? {
        guard !c.distillGenerators.isEmpty else { return nil }
        guard case .cmff(let m2g) = student.body else {
            throw CMFError.invalidArgument("distillation teaches the two branches of CMFF; the \(student.architecture.rawValue) network has none")
        }
        let teachers = try c.distillGenerators.map { path -> M3DUNet in
            let g = try Network.load(paths: [path])
            guard g.architecture == .generator, case .unet(let u) = g.body else {
                throw CMFError.invalidArgument("\(path) is a \(g.architecture.rawValue) network, not a CMFT generator")
            }
            return u
        }
        return try FeatureDistillation(teachers: teachers, student: m2g, weight: c.distillWeight, seed: c.seed)
    }

    /// One optimiser step on one batch.
    public struct StepRecord: Sendable {
        public var step: Int
        /// The learner's `logColumns` values.
        public var values: [String: Double]
        public var seconds: Double
        public var caseName: String
    }

    /// What `run` reports as it goes.
    public enum Event {
        case step(StepRecord)
        case validation(step: Int, result: ValidationResult)
        case checkpoint(step: Int, path: String)
    }

    /// Trains until `configuration.steps` or until `shouldStop` returns true (checked after
    /// every step; the run then writes a checkpoint and returns).
    /// - Returns: the step reached.
    @discardableResult
    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }, report: (Event) -> Void = { _ in }) throws -> Int {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }  // activations reused, not page-faulted again
        let c = configuration
        try FileManager.default.createDirectory(atPath: c.outputFolder, withIntermediateDirectories: true)
        let columns = learner.logColumns
        let log = try CSVLog(path: logPath, header: ["step"] + columns + ["seconds", "case"], keepingRowsUpTo: step)
        let vlog = try CSVLog(path: validationLogPath, header: ValidationResult.csvHeader, keepingRowsUpTo: step)
        guard step < c.steps else { return step }
        let prefetcher = BatchPrefetcher(sampler: sampler, firstStep: step + 1)
        defer { prefetcher.stop() }
        while step < c.steps {
            let t0 = Date()
            let batch = prefetcher.next()
            let values = try learner.train(on: batch, step: step + 1, context)
            step += 1
            let record = StepRecord(step: step, values: values, seconds: Date().timeIntervalSince(t0),
                                    caseName: dataset.cases[batch.caseIndex].name)
            try log.append([String(step)] + columns.map { values[$0].map { String(cFormat: "%.6f", $0) } ?? "" }
                           + [String(cFormat: "%.3f", record.seconds), record.caseName])
            report(.step(record))
            let stopping = shouldStop()
            if c.validationFolder != nil, c.task.segments, (c.validateEvery > 0 && step % c.validateEvery == 0) || step == c.steps {
                let v = try validate()
                for row in v.csvRows(step: step) { try vlog.append(row) }
                if bestValidation == nil || v.meanDice > bestValidation!.dice {
                    bestValidation = (v.meanDice, step)
                    try writeBestModel(validation: v)
                }
                report(.validation(step: step, result: v))
            }
            if step % c.checkpointEvery == 0 || step == c.steps || stopping {
                try writeCheckpoint()
                report(.checkpoint(step: step, path: checkpointPath))
            }
            if stopping { break }
        }
        return step
    }

    /// The model's metadata: what the segmentation pipeline reads (classes, pairs,
    /// normalisation, patch) and the provenance of this run.
    public func modelMetadata(validation: ValidationResult? = nil) -> [String: String] {
        let c = configuration
        var m: [String: String] = [
            "class_values": dataset.classValues.map(String.init).joined(separator: ","),
            "pairs": c.pairs.map { $0.map(\.rawValue).joined(separator: ",") }.joined(separator: "|"),
            "normalization": PreprocessOptions().normalization.rawValue,
            "patch": c.patch.dhwText,
            "producer": "cmfseg \(CMFSegVersion.string) train",
            "training_task": c.task.rawValue,
            "training_data": c.dataFolder,
            "training_cases": String(dataset.cases.count),
            "training_steps": String(step),
            "training_seed": String(c.seed),
            "training_patch": c.patch.dhwText,
            "training_optimizer": "adam lr \(c.adam.learningRate) weight_decay \(c.adam.weightDecay)",
            "training_date": Date().formatted(.iso8601),
        ]
        if let v = validation {
            m["validation_dice"] = v.summary
            m["validation_data"] = c.validationFolder ?? ""
        }
        return m.merging(provenance) { _, p in p }
    }

    /// Writes the segmentation network scored best so far to `best.safetensors`.
    func writeBestModel(validation: ValidationResult) throws {
        guard var net = network else { return }
        net.metadata = modelMetadata(validation: validation)
        try net.write(to: bestModelPath)
    }

    /// Writes `checkpoint.safetensors` and the model files (each atomically): for
    /// segmentation `model.safetensors` (loads with `cmfseg segment --weights`), for CMFT
    /// `x2y`, `y2x`, `dx`, `dy`.
    public func writeCheckpoint() throws {
        var meta = TrainingCheckpoint.identity(configuration)
        if let b = bestValidation {
            meta["best_validation_dice"] = String(b.dice)
            meta["best_validation_step"] = String(b.step)
        }
        try TrainingCheckpoint(step: step, tensors: Dictionary(uniqueKeysWithValues: learner.checkpointTensors()), metadata: meta)
            .write(to: checkpointPath)
        try learner.writeModels(to: configuration.outputFolder, metadata: modelMetadata())
    }

    /// Segments every validation case whole (sliding windows of the training patch,
    /// post-processing as inference) and scores it against its reference.
    public func validate() throws -> ValidationResult {
        guard let folder = configuration.validationFolder, var net = network else {
            throw CMFError.invalidArgument("validation needs a segmentation task and a validation folder")
        }
        net.metadata = modelMetadata()
        let model = try SegmentationModel(network: net, context: context)
        var options = SegmentationOptions(for: model)
        options.window.overlap = configuration.validationOverlap
        var scores: [ValidationResult.CaseScore] = []
        for c in try Self.validationCases(folder) {
            let result = try model.segment(CaseInput(files: c.images), options: options)
            let e = try BraTSEvaluator().evaluate(reference: Nifti.readLabels(c.seg!), prediction: result.labels)
            scores.append(.init(name: c.name, result: e))
        }
        return ValidationResult(cases: scores)
    }

    /// The validation cases of `folder`.
    /// - Throws: `CMFError.invalidArgument` for an empty folder or a case without all four
    ///   images and a label map (named).
    static func validationCases(_ folder: String) throws -> [CaseFolder] {
        let cases = try CaseFolder.folders(in: folder).map(CaseFolder.init)
        guard !cases.isEmpty else { throw CMFError.invalidArgument("validation folder \(folder) has no case folders") }
        for c in cases {
            let missing = Modality.allCases.filter { c.images[$0] == nil }.map { c.expectedFile($0.rawValue) }
                + (c.seg == nil ? [c.expectedFile("seg")] : [])
            guard missing.isEmpty else {
                throw CMFError.invalidArgument("validation case \(c.name) (\(c.path)) lacks \(missing.joined(separator: ", "))")
            }
        }
        return cases
    }
}
