import Foundation

/// A segmentation network loaded from weights, with what the pipeline needs to know about
/// it (metadata) and a `PatchPredictor` for the modalities a case has.
///
/// Metadata keys (WEIGHTS.md), each with the authors' default when absent (listed in `notes`):
/// `class_values` (BraTS value of each output class, default `0,2,1,4`), `pairs` (input
/// modalities, `|` between the two CMFF branches, default `t1,t1ce|t2,flair`),
/// `normalization` (default `zscore-nonzero-p2-98`), `patch` (default `128,128,128`).
public struct SegmentationModel: Sendable {
    public let network: Network
    public var architecture: Architecture { network.architecture }
    /// BraTS label value of each output class (internal class order → label map values).
    public let classValues: [Int]
    /// Input modality groups in channel order: two pairs for CMFF, one group otherwise.
    public let pairs: [[Modality]]
    public let normalization: String
    /// Training patch size `[D, H, W]` (the pipeline's default window).
    public let patch: [Int]
    /// Everything inferred or assumed while loading (raw export, default slope, …).
    public let notes: [String]
    /// Engine and threads the predictors use.
    public var context: ForwardContext

    /// Loads weight files (several files load together into one name → tensor map).
    /// - Throws: `CMFError` from reading; `.unsupported` for a network that does not segment
    ///   (generator, discriminator); `.format` for bad metadata values.
    public init(weightPaths: [String], context: ForwardContext = ForwardContext()) throws {
        try self.init(network: Network.load(paths: weightPaths), context: context)
    }

    public init(network: Network, context: ForwardContext = ForwardContext()) throws {
        guard network.architecture.isSegmentation else {
            throw CMFError.unsupported("a \(network.architecture.rawValue) network does not segment (expected cmff-m2g, cmff-m2, unet-single-pair or unet-4mod)")
        }
        let meta = network.metadata
        var notes = network.notes
        self.network = network
        self.context = context

        let classes = network.outChannels
        if let s = meta["class_values"] {
            let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == classes, v.allSatisfy({ $0 != nil && (0...255).contains($0!) }) else {
                throw CMFError.format("metadata class_values \"\(s)\" must list \(classes) label values 0–255")
            }
            classValues = v.map { $0! }
        } else {
            guard classes == 4 else {
                throw CMFError.format("\(classes)-class network without class_values metadata (the default 0,2,1,4 needs 4 classes)")
            }
            classValues = [0, 2, 1, 4]
            notes.append("class values 0,2,1,4 (authors' default: background, edema, NCR/NET, ET)")
        }

        let defaultPairs: String
        switch network.architecture {
        case .unet4Mod: defaultPairs = "t1,t1ce,t2,flair"
        case .unetSinglePair: defaultPairs = "t1,t1ce"
        default: defaultPairs = "t1,t1ce|t2,flair"
        }
        let pairText = meta["pairs"] ?? defaultPairs
        if meta["pairs"] == nil {
            notes.append(network.architecture == .unetSinglePair
                         ? "single-pair network without pairs metadata: assumed pair A (t1,t1ce)"
                         : "modalities \(defaultPairs) (authors' default)")
        }
        var groups: [[Modality]] = []
        for g in pairText.split(separator: "|", omittingEmptySubsequences: false) {
            var group: [Modality] = []
            for name in g.split(separator: ",") {
                guard let m = Modality(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    throw CMFError.format("metadata pairs \"\(pairText)\": unknown modality \"\(name)\" (t1, t1ce, t2, flair)")
                }
                group.append(m)
            }
            groups.append(group)
        }
        let flat = groups.flatMap { $0 }
        let isCMFF = network.architecture == .cmffM2G || network.architecture == .cmffM2
        let ok = isCMFF ? groups.count == 2 && groups.allSatisfy { $0.count == network.inChannels }
                        : groups.count == 1 && flat.count == network.inChannels
        guard ok, Set(flat).count == flat.count else {
            throw CMFError.format("metadata pairs \"\(pairText)\" does not fit a \(network.architecture.rawValue) network with \(network.inChannels) input channels per branch")
        }
        pairs = groups

        normalization = meta["normalization"] ?? "zscore-nonzero-p2-98"
        if let s = meta["patch"] {
            let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 3, v.allSatisfy({ $0 != nil && $0! > 0 && $0! % 16 == 0 }) else {
                throw CMFError.format("metadata patch \"\(s)\" must be three positive multiples of 16")
            }
            patch = v.map { $0! }
        } else {
            patch = [128, 128, 128]
        }
        self.notes = notes
    }

    /// Number of output classes.
    public var classCount: Int { network.outChannels }

    /// Which part of the network serves a case, given its available modalities.
    public enum Route: String, Sendable {
        /// CMFF with all four modalities: the fused softmax.
        case fused = "cmff-fused"
        /// CMFF with only pair A (`net_0`): that branch's softmax alone.
        case branch0 = "cmff-branch0"
        /// CMFF with only pair B (`net_1`): that branch's softmax alone.
        case branch1 = "cmff-branch1"
        /// A single-network baseline (single pair or 4 modalities).
        case single = "single-network"
    }

    /// The route for `available` modalities: CMFF prefers the fusion, then branch 0 (pair A),
    /// then branch 1 (pair B) — the CMFF branches are full segmenters; baselines need all
    /// their inputs.
    /// - Throws: `CMFError.invalidArgument` naming the missing modalities.
    public func route(available: Set<Modality>) throws -> Route {
        let have = { (ms: [Modality]) in ms.allSatisfy(available.contains) }
        switch network.body {
        case .cmff:
            if have(pairs[0] + pairs[1]) { return .fused }
            if have(pairs[0]) { return .branch0 }
            if have(pairs[1]) { return .branch1 }
            throw CMFError.invalidArgument("the CMFF model needs \(names(pairs[0])) or \(names(pairs[1])); available: \(names(Modality.allCases.filter(available.contains)))")
        default:
            guard have(pairs[0]) else {
                let missing = pairs[0].filter { !available.contains($0) }
                throw CMFError.invalidArgument("the \(network.architecture.rawValue) model needs \(names(pairs[0])); missing: \(names(missing))")
            }
            return .single
        }
    }

    /// A predictor for the modalities a case has (see `route(available:)`).
    public func predictor(available: Set<Modality>) throws -> SegmentationPredictor {
        let r = try route(available: available)
        let modalities: [Modality]
        switch r {
        case .fused: modalities = pairs[0] + pairs[1]
        case .branch0, .single: modalities = pairs[0]
        case .branch1: modalities = pairs[1]
        }
        return SegmentationPredictor(network: network, route: r, modalities: modalities,
                                     classCount: classCount, context: context)
    }

    /// Human-readable description of a route, for output metadata and logs.
    public func describe(_ route: Route) -> String {
        guard pairs.count == 2 || route == .single else {
            return "\(route.rawValue) (not a route of this \(network.architecture.rawValue) model)"
        }
        switch route {
        case .fused: return "CMFF fusion of \(names(pairs[0])) and \(names(pairs[1]))"
        case .branch0: return "CMFF branch net_0 alone (\(names(pairs[0])); \(names(pairs[1])) unavailable)"
        case .branch1: return "CMFF branch net_1 alone (\(names(pairs[1])); \(names(pairs[0])) unavailable)"
        case .single: return "\(network.architecture.rawValue) on \(names(pairs[0]))"
        }
    }
}

private func names(_ ms: [Modality]) -> String { ms.map(\.rawValue).joined(separator: "+") }
