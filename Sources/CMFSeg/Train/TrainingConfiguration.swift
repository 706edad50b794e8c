/// Everything that decides a segmentation training run. Two runs with the same
/// configuration and data produce the same parameters, step for step (batches are a
/// function of the seed and the step; see ``PatchSampler``).
public struct TrainingConfiguration: Sendable, Equatable {
    /// Which network is trained: the method (CMFF) or one of its ablation baselines.
    public enum Task: String, Sendable, CaseIterable {
        /// CMFF with mask guidance (`M2G`), both pairs.
        case cmff
        /// One U-Net on one pair (`pair` says which).
        case singlePair = "single-pair"
        /// One U-Net on all four modalities.
        case unet4
        /// CMFF fusion without mask guidance (the authors' `M2`).
        case noMask = "no-mask"
        /// CMFT: the CycleGAN between the pairs (no labels used).
        case cmft

        /// The network trained (the generators for CMFT).
        public var architecture: Architecture {
            switch self {
            case .cmff: return .cmffM2G
            case .singlePair: return .unetSinglePair
            case .unet4: return .unet4Mod
            case .noMask: return .cmffM2
            case .cmft: return .generator
            }
        }

        /// Whether the task learns segmentation (and so can be validated by segmenting).
        public var segments: Bool { self != .cmft }
    }

    public var task: Task = .cmff
    /// The pair a single-pair network reads: 0 = pair A (t1, t1ce), 1 = pair B (t2, flair).
    public var pair = 0
    /// Training cases (BraTS layout: `<case>/<case>_{t1,t1ce,t2,flair,seg}.nii.gz`).
    public var dataFolder: String
    /// Validation cases in the same layout, segmented whole (nil: no validation).
    public var validationFolder: String?
    /// Where the model, checkpoint and logs go.
    public var outputFolder: String
    /// Training patch (each side a multiple of 16).
    public var patch = Shape3(64, 64, 64)
    /// Total optimiser steps of the run.
    public var steps = 1000
    public var seed: UInt64 = 0
    /// Worker threads (0: OpenMP's default).
    public var threads = 0
    /// Base width F (nil: 16, or 20 for the 4-modality U-Net as the authors).
    public var baseFilters: Int?
    public var adam = AdamOptions(learningRate: 1e-4, weightDecay: 1e-5)
    public var maxGradientNorm: Double?
    public var logEvery = 10
    /// Validate every this many steps and at the end (0: only at the end).
    public var validateEvery = 500
    public var checkpointEvery = 50
    /// Weights to start from (every tensor whose name and shape match is copied).
    public var initWeights: [String] = []
    public var augmentation = AugmentationOptions()
    public var foregroundFraction = 1.0 / 3
    public var storage: TrainingDataset.Storage = .float32
    /// Sliding-window overlap of the validation segmentations.
    public var validationOverlap = 0.5
    /// CMFT generators G_AB and G_BA that teach CMFF's branches (``FeatureDistillation``);
    /// empty: no distillation.
    public var distillGenerators: [String] = []
    /// λ of the distillation loss.
    public var distillWeight = 1.0

    public init(dataFolder: String, outputFolder: String) {
        self.dataFolder = dataFolder
        self.outputFolder = outputFolder
    }

    /// Input modalities in channel order, and the groups (`|`-separated in metadata).
    public var pairs: [[Modality]] {
        let a: [Modality] = [.t1, .t1ce], b: [Modality] = [.t2, .flair]
        switch task {
        case .cmff, .noMask, .cmft: return [a, b]
        case .singlePair: return [pair == 0 ? a : b]
        case .unet4: return [a + b]
        }
    }

    public var resolvedBaseFilters: Int { baseFilters ?? (task == .unet4 ? 20 : 16) }

    /// - Throws: `CMFError.invalidArgument` naming the bad value.
    public func validate() throws {
        func bad(_ s: String) -> CMFError { .invalidArgument(s) }
        for (name, v) in [("x", patch.nx), ("y", patch.ny), ("z", patch.nz)] where v <= 0 || v % 16 != 0 || v > 256 {
            throw bad("patch \(name) size \(v) must be a positive multiple of 16, at most 256")
        }
        guard steps >= 1 else { throw bad("steps must be >= 1 (got \(steps))") }
        guard pair == 0 || pair == 1 else { throw bad("pair must be 0 (t1, t1ce) or 1 (t2, flair), got \(pair)") }
        guard resolvedBaseFilters >= 1, resolvedBaseFilters <= 64 else {
            throw bad("base filters must be in 1...64 (got \(resolvedBaseFilters))")
        }
        guard adam.learningRate > 0, adam.learningRate.isFinite, adam.weightDecay >= 0 else {
            throw bad("learning rate must be positive and weight decay non-negative")
        }
        guard logEvery >= 1, checkpointEvery >= 1, validateEvery >= 0 else {
            throw bad("log and checkpoint intervals must be >= 1, the validation interval >= 0")
        }
        guard foregroundFraction >= 0, foregroundFraction <= 1 else { throw bad("foreground fraction must be in [0, 1]") }
        guard validationOverlap >= 0, validationOverlap < 1 else { throw bad("validation overlap must be in [0, 1)") }
        if let g = maxGradientNorm, !(g > 0) { throw bad("gradient clipping norm must be positive") }
        if !distillGenerators.isEmpty {
            guard distillGenerators.count == 2 else {
                throw bad("distillation takes two generators, G_AB and G_BA (x2y, y2x); got \(distillGenerators.count)")
            }
            guard task == .cmff || task == .noMask else {
                throw bad("distillation teaches the two branches of CMFF; task \(task.rawValue) has none")
            }
            guard distillWeight.isFinite, distillWeight >= 0 else { throw bad("distillation weight must be finite and >= 0") }
        }
    }
}
