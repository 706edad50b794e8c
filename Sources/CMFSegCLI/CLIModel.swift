import ArgumentParser
import CMFSeg

/// The convolution engines a command can run with (`--engine`): one list for every command.
enum EngineName: String, CaseIterable, ExpressibleByArgument {
    case onednn
    case onednnUnfused = "onednn-unfused"
    case naive

    static let help: ArgumentHelp = "Convolution engine: onednn (fast), onednn-unfused (no conv+norm fusion) or naive (reference)."

    var engine: any ConvolutionEngine {
        switch self {
        case .onednn: return OneDNNConvolutionEngine()
        case .onednnUnfused: return OneDNNConvolutionEngine(fusesNormalization: false)
        case .naive: return NaiveConvolutionEngine()
        }
    }
}

extension SlidingWindowOptions.Layout: ExpressibleByArgument {
    static let help: ArgumentHelp = "Window layout: grid (windows of --patch overlapping by --overlap, default) or fitted (per axis the fewest windows no larger than --patch that cover the brain, shrunk to fit; about 3× faster, each voxel predicted once)."
}

extension ConvolutionPrecision: ExpressibleByArgument {
    static let help: ArgumentHelp = "Convolution arithmetic: f32 (default) or bf16 (fast on CPUs with AVX-512 BF16, emulated and slower elsewhere; onednn engine only)."
}

extension SegmentationModel {
    /// The model a command's `--weights` name, or without any the bundled default; when
    /// the installation lacks it, the error says which option gives weights.
    static func load(weights: [String], context: ForwardContext) throws -> SegmentationModel {
        guard weights.isEmpty else { return try SegmentationModel(weightPaths: weights, context: context) }
        do {
            return try loadDefault(context: context)
        } catch CMFError.io(let message) {
            throw CMFError.io("\(message) (CLI: --weights)")
        }
    }
}
