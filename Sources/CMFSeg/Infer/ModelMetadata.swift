/// How weight-file metadata spells its values (`Sources/CMFSeg/Weights/README.md`): one
/// parser per key, for every reader (``SegmentationModel``, ``PairTranslator``).
public enum ModelMetadata {
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
    public static func parsePatch(_ text: String, key: String = "patch") throws -> Shape3 {
        let v = integers(text)
        guard v.allSatisfy({ $0 != nil && $0! % 16 == 0 }), let shape = Shape3(dhw: v.compactMap { $0 }) else {
            throw CMFError.format("metadata \(key) \"\(text)\" must be three positive multiples of 16")
        }
        return shape
    }

    /// Parses `pairs` ("t1,t1ce|t2,flair"): modality names, `|` between the CMFF branches.
    /// - Throws: `CMFError.format` naming an unknown modality.
    public static func parsePairs(_ text: String) throws -> [[Modality]] {
        try text.split(separator: "|", omittingEmptySubsequences: false).map { group in
            try group.split(separator: ",").map { name in
                guard let m = Modality(rawValue: name.trimmingSpaces().lowercased()) else {
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
        text.split(separator: ",").map { Int($0.trimmingSpaces()) }
    }
}
