import Foundation

/// The segmentation metadata of a weight file, parsed once, when a model loads, into the
/// model's typed fields. Keys (`Sources/CMFSeg/Weights/README.md` lists every key a weight
/// file may carry), each with the authors' default when absent, listed in `notes`:
/// - `class_values`: the BraTS label value of each output class, default `0,2,1,4`
///   (``SegmentationOptions/classValues``);
/// - `pairs`: the input modalities in channel order, `|` between the two CMFF branches;
///   default `t1,t1ce|t2,flair` (CMFF), `t1,t1ce` (single pair), `t1,t1ce,t2,flair`
///   (4 modalities);
/// - `normalization`: a ``PreprocessOptions/Normalization`` name, default
///   `zscore-nonzero-p2-98`;
/// - `patch`: the training patch `D,H,W`, three positive multiples of 16, default
///   `128,128,128` (``SlidingWindowOptions/patch``).
extension SegmentationModel {
    /// The typed metadata of a segmentation network and the notes on the defaults it took.
    struct Metadata {
        var classValues: [UInt8]
        var pairs: [[Modality]]
        var normalization: PreprocessOptions.Normalization
        var patch: Shape3
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
            classValues = try parseClassValues(s)
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
            pairs = try parsePairs(s)
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

        let normalization = try meta["normalization"].map(parseNormalization) ?? PreprocessOptions().normalization
        let patch = try meta["patch"].map(parsePatch) ?? SlidingWindowOptions().patch
        return Metadata(classValues: classValues, pairs: pairs, normalization: normalization, patch: patch, notes: notes)
    }

    /// Parses `class_values` ("0,2,1,4").
    /// - Throws: `CMFError.format` for anything but comma-separated integers in 0...255.
    public static func parseClassValues(_ text: String) throws -> [UInt8] {
        try integers(text).map { v in
            guard let v, (0...255).contains(v) else {
                throw CMFError.format("metadata class_values \"\(text)\" is not a comma-separated list of integers in 0...255")
            }
            return UInt8(v)
        }
    }

    /// Parses `patch` ("128,128,128", PyTorch order D,H,W) into a ``Shape3`` (x, y, z).
    /// - Throws: `CMFError.format` unless three positive multiples of 16.
    public static func parsePatch(_ text: String) throws -> Shape3 {
        let v = integers(text)
        guard v.allSatisfy({ $0 != nil && $0! % 16 == 0 }), let shape = Shape3(dhw: v.compactMap { $0 }) else {
            throw CMFError.format("metadata patch \"\(text)\" must be three positive multiples of 16")
        }
        return shape
    }

    /// Parses `pairs` ("t1,t1ce|t2,flair"): modality names, `|` between the CMFF branches.
    /// - Throws: `CMFError.format` naming an unknown modality.
    public static func parsePairs(_ text: String) throws -> [[Modality]] {
        try text.split(separator: "|", omittingEmptySubsequences: false).map { group in
            try group.split(separator: ",").map { name in
                guard let m = Modality(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    throw CMFError.format("metadata pairs \"\(text)\": unknown modality \"\(name)\" (t1, t1ce, t2, flair)")
                }
                return m
            }
        }
    }

    /// Parses `normalization` (a ``PreprocessOptions/Normalization`` raw value).
    /// - Throws: `CMFError.unsupported` for a normalisation this library does not implement.
    public static func parseNormalization(_ text: String) throws -> PreprocessOptions.Normalization {
        guard let n = PreprocessOptions.Normalization(rawValue: text) else {
            let known = PreprocessOptions.Normalization.allCases.map(\.rawValue).joined(separator: ", ")
            throw CMFError.unsupported("the model was trained with normalization \"\(text)\", which this library does not implement (known: \(known))")
        }
        return n
    }

    /// The comma-separated integers of a metadata value (nil where one is not an integer).
    private static func integers(_ text: String) -> [Int?] {
        text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    private static func list<T: CustomStringConvertible>(_ values: [T]) -> String {
        values.map(\.description).joined(separator: ",")
    }
}
