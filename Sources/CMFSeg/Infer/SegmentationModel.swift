/// A segmentation network loaded from weights, with what the pipeline needs to know about
/// it (its metadata, parsed once into typed fields) and a `PatchPredictor` for the
/// modalities a case has.
///
/// Metadata keys (`class_values`, `pairs`, `normalization`, `patch`) and the authors'
/// defaults for a raw export: `SegmentationModel+Metadata.swift` and
/// `Sources/CMFSeg/Weights/README.md`.
public struct SegmentationModel: Sendable {
    public let network: Network
    public var architecture: Architecture { network.architecture }
    /// BraTS label value of each output class (internal class order → label map values).
    public let classValues: [UInt8]
    /// Input modality groups in channel order: two pairs for CMFF, one group otherwise.
    public let pairs: [[Modality]]
    /// The input normalisation the network was trained with.
    public let normalization: PreprocessOptions.Normalization
    /// Training patch; metadata gives it as `D,H,W`.
    public let patch: Shape3
    /// The pipeline's default window: metadata `window`, else the training patch.
    public let window: Shape3
    /// Everything inferred or assumed while loading (raw export, default slope, …).
    public let notes: [String]
    /// Engine and threads the predictors use.
    public var context: ForwardContext

    /// Loads weight files (several files load together into one name → tensor map).
    /// - Throws: `CMFError` from reading; `.unsupported` for a network that does not segment
    ///   (generator, discriminator) or a normalisation this library does not implement;
    ///   `.format` for bad metadata values.
    public init(weightPaths: [String], context: ForwardContext = ForwardContext()) throws {
        try self.init(network: Network.load(paths: weightPaths), context: context)
    }

    /// - Throws: as ``init(weightPaths:context:)``, without the reading errors.
    public init(network: Network, context: ForwardContext = ForwardContext()) throws {
        guard network.architecture.isSegmentation else {
            throw CMFError.unsupported("a \(network.architecture.rawValue) network does not segment (expected cmff-m2g, cmff-m2, unet-single-pair or unet-4mod)")
        }
        let m = try Self.parseMetadata(of: network)
        self.network = network
        self.context = context
        classValues = m.classValues
        pairs = m.pairs
        normalization = m.normalization
        patch = m.patch
        window = m.window
        notes = network.notes + m.notes
        notes.forEach(LibraryLog.note)
    }

    /// Number of output classes.
    public var classCount: Int { network.outChannels }

    /// A predictor for the modalities a case has (see ``route(available:)``).
    /// - Parameters:
    ///   - threads: > 0 runs the network with this many threads instead of the model's
    ///     `context.threads`.
    ///   - precision: the convolutions' arithmetic for this predictor (the model's engine
    ///     switched to it).
    /// - Throws: as ``route(available:)``; `.unsupported` for a precision the engine lacks.
    public func predictor(available: Set<Modality>, threads: Int = 0,
                          precision: ConvolutionPrecision = .f32) throws -> SegmentationPredictor {
        let r = try route(available: available)
        var context = self.context
        if threads > 0 { context.threads = threads }
        context.engine = try context.engine.with(precision: precision)
        return SegmentationPredictor(network: network, route: r, modalities: modalities(r),
                                     classCount: classCount, context: context)
    }
}
