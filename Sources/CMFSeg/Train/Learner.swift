/// What a training run optimises, behind one interface so that one loop (``Trainer``)
/// serves both stages of the method: a segmentation network (CMFF and its baselines) and the
/// CMFT CycleGAN.
public protocol Learner: Sendable {
    /// The values one step reports, in `train.csv` column order.
    var logColumns: [String] { get }
    /// The value minimised (for logs and the loss-falls checks).
    var lossColumn: String { get }
    /// Trainable values.
    var parameterCount: Int { get }
    /// One optimisation step on `batch`, the run's `step`-th (1-based).
    /// - Returns: the values of `logColumns` (NaN for a value a step does not have).
    mutating func train(on batch: TrainingBatch, step: Int, _ ctx: ForwardContext) throws -> [String: Double]
    /// Parameters, optimiser state and anything else a bit-identical resumption needs.
    func checkpointTensors() -> [(String, Tensor)]
    /// Restores what `checkpointTensors` wrote after `step` steps.
    mutating func restore(_ tensors: [String: Tensor], step: Int) throws
    /// Copies matching tensors from `weights` (warm start or parameter transfer).
    mutating func initialise(from weights: WeightSet) throws -> String
    /// Writes the trained model(s) in the weights format into `folder`; returns the paths.
    @discardableResult
    func writeModels(to folder: String, metadata: [String: String]) throws -> [String]
}

/// A segmentation network trained with ``SegmentationObjective`` and Adam, optionally
/// taught by the CMFT generators (``FeatureDistillation``, whose adapters train alongside).
public struct SegmentationLearner: Learner {
    public var network: Network
    public var optimizer: AdamOptimizer
    public var distillation: FeatureDistillation?

    public init(network: Network, optimizer: AdamOptimizer, distillation: FeatureDistillation? = nil) {
        self.network = network
        self.optimizer = optimizer
        self.distillation = distillation
    }

    public var logColumns: [String] {
        (network.architecture == .cmffM2G || network.architecture == .cmffM2 ? ["loss", "loss_0", "loss_1", "loss_f"] : ["loss"])
            + (distillation == nil ? [] : ["loss_distill"]) + ["dice_ed", "dice_ncr", "dice_et", "grad_norm"]
    }
    public var lossColumn: String { "loss" }
    public var parameterCount: Int { network.parameterCount + (distillation?.parameterCount ?? 0) }

    public mutating func train(on batch: TrainingBatch, step: Int, _ ctx: ForwardContext) throws -> [String: Double] {
        let (losses, grads) = try SegmentationObjective.lossAndGradients(network, input: batch.input, labels: batch.labels,
                                                                         distillation: distillation, ctx)
        var trainable = Trainable(network: network, distillation: distillation)
        let norm = try optimizer.update(&trainable, gradients: grads, threads: ctx.threads)
        (network, distillation) = (trainable.network, trainable.distillation)
        var values = losses.parts
        values["loss"] = losses.total
        for (k, name) in ["dice_ed", "dice_ncr", "dice_et"].enumerated() where k < losses.dice.count { values[name] = losses.dice[k] }
        values["grad_norm"] = norm
        return values
    }

    public func checkpointTensors() -> [(String, Tensor)] {
        Trainable(network: network, distillation: distillation).namedParameters(prefix: "param.") + optimizer.stateTensors()
    }

    public mutating func restore(_ tensors: [String: Tensor], step: Int) throws {
        var trainable = Trainable(network: network, distillation: distillation)
        try restoreParameters(&trainable, tensors, prefix: "param.")
        (network, distillation) = (trainable.network, trainable.distillation)
        try optimizer.restore(step: step, tensors: tensors.filter { $0.key.hasPrefix("adam.") })
    }

    public mutating func initialise(from weights: WeightSet) throws -> String {
        let report = network.copyMatching(weights.tensors)
        guard !report.copied.isEmpty else {
            throw CMFError.invalidArgument("no tensor of \(weights.sourceDescription) fits the \(network.architecture.rawValue) network (names or shapes differ)")
        }
        return report.summary(source: weights.sourceDescription)
    }

    public func writeModels(to folder: String, metadata: [String: String]) throws -> [String] {
        var net = network
        net.metadata = metadata
        let path = folder + "/model.safetensors"
        try net.write(to: path)
        return [path]
    }
}

/// What one Adam step updates: the network and the distillation adapters (one optimiser, so
/// one step count for both).
private struct Trainable: ParameterContainer {
    var network: Network
    var distillation: FeatureDistillation?

    mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        try network.visitParameters(prefix: prefix, body)
        try distillation?.visitParameters(prefix: prefix, body)
    }
}

/// Sets every parameter of `net` from `tensors[prefix + name]`.
/// - Throws: `CMFError.format` naming missing or mis-shaped tensors.
func restoreParameters<N: ParameterContainer>(_ net: inout N, _ tensors: [String: Tensor], prefix: String) throws {
    var problems: [String] = []
    net.visitParameters(prefix: "") { name, p in
        if let t = tensors[prefix + name], t.shape == p.shape { p = t } else { problems.append(name) }
    }
    guard problems.isEmpty else {
        throw CMFError.format("checkpoint lacks or mis-shapes \(problems.count) parameters (\(problems.prefix(4).joined(separator: ", ")))")
    }
}
