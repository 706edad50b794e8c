/// The three nested tumour regions BraTS scores, in the order the C API and reports use.
public enum TumorRegion: Int, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Whole tumour: every tumour label.
    case wholeTumor = 0
    /// Tumour core: necrosis / non-enhancing core and enhancing tumour.
    case tumorCore = 1
    /// Enhancing tumour.
    case enhancingTumor = 2

    /// "WT", "TC" or "ET", the names BraTS reports (and the JSON keys of `cmfseg evaluate`).
    public var name: String {
        switch self {
        case .wholeTumor: return "WT"
        case .tumorCore: return "TC"
        case .enhancingTumor: return "ET"
        }
    }

    public var description: String { name }
}

/// Which label values a BraTS label map uses, and which of them make up each region.
///
/// - `brats2018` (BraTS 2017–2022, the default): 0 background, 1 necrotic / non-enhancing
///   core, 2 oedema, 4 enhancing tumour; WT = {1, 2, 4}, TC = {1, 4}, ET = {4}.
/// - `brats2023` (BraTS 2023 and later): the enhancing tumour is 3; WT = {1, 2, 3},
///   TC = {1, 3}, ET = {3}.
///
/// Any other value in a label map is an error, never silently dropped.
public enum LabelConvention: String, CaseIterable, Sendable {
    case brats2018
    case brats2023

    /// The label values this convention allows, background included, ascending.
    public var allowedLabels: [UInt8] {
        switch self {
        case .brats2018: return [0, 1, 2, 4]
        case .brats2023: return [0, 1, 2, 3]
        }
    }

    /// The labels that make up `region`.
    public func labels(of region: TumorRegion) -> [UInt8] {
        let et: UInt8 = self == .brats2018 ? 4 : 3
        switch region {
        case .wholeTumor: return [1, 2, et]
        case .tumorCore: return [1, et]
        case .enhancingTumor: return [et]
        }
    }

    /// Human-readable name used in messages ("BraTS 2018").
    public var displayName: String { self == .brats2018 ? "BraTS 2018" : "BraTS 2023" }

    /// The lookup table the kernels use: entry v holds bit `region.rawValue` for each region
    /// that contains label v, 0 for background and 0xFF for a value outside the convention.
    var regionLookupTable: [UInt8] {
        var lut = [UInt8](repeating: 0xFF, count: 256)
        lut[0] = 0
        for v in allowedLabels where v != 0 {
            var bits: UInt8 = 0
            for region in TumorRegion.allCases where labels(of: region).contains(v) {
                bits |= 1 << UInt8(region.rawValue)
            }
            lut[Int(v)] = bits
        }
        return lut
    }
}
