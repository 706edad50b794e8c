import FoundationEssentials

/// A training checkpoint: one safetensors file holding what the ``Learner`` needs to go on
/// (parameters `param.<name>`, optimiser moments `adam.m.<name>` / `adam.v.<name>`, the
/// CycleGAN's pools) and, in its metadata, the step and what decides the run (task, pair,
/// width, patch, seed, learning rate, weight decay).
/// Batches are a function of (seed, step) and weights start from the seed, so seed + step
/// is the whole random state: a resumed run continues bit-identically.
public struct TrainingCheckpoint: Sendable {
    public static let format = "cmfseg-checkpoint-1"
    public var step: Int
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// The metadata keys that must agree between a checkpoint and the run resuming it.
    static func identity(_ c: TrainingConfiguration) -> [String: String] {
        var keys = ["task": c.task.rawValue, "pair": String(c.pair), "base_filters": String(c.resolvedBaseFilters),
                    "patch": c.patch.dhwText, "seed": String(c.seed),
                    "learning_rate": String(c.adam.learningRate), "weight_decay": String(c.adam.weightDecay),
                    "foreground_fraction": String(c.foregroundFraction)]
        // only when distilling, so that checkpoints written before distillation existed still match
        if !c.distillGenerators.isEmpty { keys["distill_weight"] = String(c.distillWeight) }
        return keys
    }

    /// Writes atomically (temporary file + rename).
    public func write(to path: String) throws {
        let entries = tensors.keys.sorted().map { SafeTensorsFile.Entry(name: $0, tensor: tensors[$0]!) }
        var meta = metadata
        meta["format"] = Self.format
        meta["step"] = String(step)
        try SafeTensorsFile(entries: entries, metadata: meta).write(to: path)
    }

    /// - Throws: `CMFError.format` for a file that is not a cmfseg checkpoint.
    public static func read(path: String) throws -> TrainingCheckpoint {
        let file = try SafeTensorsFile.read(path: path)
        guard file.metadata["format"] == format, let step = file.metadata["step"].flatMap({ Int($0) }), step >= 0 else {
            throw CMFError.format("\(path) is not a cmfseg training checkpoint (metadata format \(format) and a step expected)")
        }
        let tensors = Dictionary(file.entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        return TrainingCheckpoint(step: step, tensors: tensors, metadata: file.metadata)
    }

    /// - Throws: `CMFError.invalidArgument` naming every setting that differs from the run
    ///   that wrote the checkpoint.
    func checkMatches(_ c: TrainingConfiguration, path: String) throws {
        let want = Self.identity(c)
        let diffs = want.keys.sorted().compactMap { k -> String? in
            let have = metadata[k] ?? "(none)"
            return have == want[k] ? nil : "\(k) \(have) in the checkpoint, \(want[k]!) now"
        }
        guard diffs.isEmpty else {
            throw CMFError.invalidArgument("cannot resume from \(path): the run differs (\(diffs.joined(separator: "; ")))")
        }
    }
}
