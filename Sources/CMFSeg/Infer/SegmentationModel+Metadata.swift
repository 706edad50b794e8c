/// The segmentation metadata of a weight file, parsed once, when a model loads, into the
/// model's typed fields (each value by ``ModelMetadata``). Keys (`Sources/CMFSeg/Weights/README.md` lists every key a weight
/// file may carry), each with the authors' default when absent, listed in `notes`:
/// - `class_values`: the BraTS label value of each output class, default `0,2,1,4`
///   (``SegmentationOptions/classValues``);
/// - `pairs`: the input modalities in channel order, `|` between the two CMFF branches;
///   default `t1,t1ce|t2,flair` (CMFF), `t1,t1ce` (single pair), `t1,t1ce,t2,flair`
///   (4 modalities);
/// - `normalization`: a ``PreprocessOptions/Normalization`` name, default
///   `zscore-nonzero-p2-98`;
/// - `patch`: the training patch `D,H,W`, three positive multiples of 16, default
///   `128,128,128`;
/// - `window`: the sliding window inference uses by default (``SlidingWindowOptions/patch``),
///   as `patch`; default: the training patch. A model validated with larger windows than it
///   was trained on states them here.
extension SegmentationModel {
    /// The typed metadata of a segmentation network and the notes on the defaults it took.
    struct Metadata {
        var classValues: [UInt8]
        var pairs: [[Modality]]
        var normalization: PreprocessOptions.Normalization
        var patch: Shape3
        var window: Shape3
        var notes: [String] = []
    }

    /// Reads the keys above from `network.metadata` and checks them against the network.
    /// - Throws: `CMFError.format` for a malformed value or one that does not fit the
    ///   network (class count, input channels); `.unsupported` for an unknown normalisation.
    static func parseMetadata(of network: Network) throws -> Metadata {
        let meta = network.metadata
        let arch = network.architecture
        var notes: [String] = []

        var classValues = SegmentationOptions().classValues
        let classes = network.outChannels
        if let s = meta["class_values"] {
            classValues = try ModelMetadata.parseClassValues(s)
            guard classValues.count == classes else {
                throw CMFError.format("metadata class_values \"\(s)\" must list \(classes) label values 0–255")
            }
        } else {
            guard classes == classValues.count else {
                throw CMFError.format("\(classes)-class network without class_values metadata (the default \(list(classValues)) needs \(classValues.count) classes)")
            }
            notes.append("class values \(list(classValues)) (authors' default: background, edema, NCR/NET, ET)")
        }

        let pairs: [[Modality]]
        let pairText: String
        if let s = meta["pairs"] {
            pairs = try ModelMetadata.parsePairs(s)
            pairText = s
        } else {
            switch arch {
            case .unet4Mod: pairs = [Modality.pairA + Modality.pairB]
            case .unetSinglePair: pairs = [Modality.pairA]
            default: pairs = [Modality.pairA, Modality.pairB]
            }
            pairText = pairs.map { list($0.map(\.rawValue)) }.joined(separator: "|")
            notes.append(arch == .unetSinglePair
                         ? "single-pair network without pairs metadata: assumed pair A (t1,t1ce)"
                         : "modalities \(pairText) (authors' default)")
        }
        let flat = pairs.flatMap { $0 }
        let fits = arch == .cmffM2G || arch == .cmffM2
            ? pairs.count == 2 && pairs.allSatisfy { $0.count == network.inChannels }
            : pairs.count == 1 && flat.count == network.inChannels
        guard fits, Set(flat).count == flat.count else {
            throw CMFError.format("metadata pairs \"\(pairText)\" does not fit a \(arch.rawValue) network with \(network.inChannels) input channels per branch")
        }

        let normalization = try meta["normalization"].map(ModelMetadata.parseNormalization) ?? PreprocessOptions().normalization
        let patch = try meta["patch"].map { try ModelMetadata.parsePatch($0) } ?? SlidingWindowOptions().patch
        let window = try meta["window"].map { try ModelMetadata.parsePatch($0, key: "window") } ?? patch
        return Metadata(classValues: classValues, pairs: pairs, normalization: normalization, patch: patch, window: window,
                        notes: notes)
    }

    private static func list<T: CustomStringConvertible>(_ values: [T]) -> String {
        values.map(\.description).joined(separator: ",")
    }
}
