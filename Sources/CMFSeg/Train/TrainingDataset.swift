/// The cases a network trains on, pre-processed exactly as inference pre-processes its input,
/// held in memory for ``PatchSampler``.
///
/// Load one with ``load(folder:modalities:classValues:preprocess:minimumSize:storage:threads:progress:)``.
public struct TrainingDataset: Sendable {
    /// How the normalised channels are held: float32 as computed, or float16 (half the image
    /// bytes; values within 2⁻¹¹ relative — 3·10⁻⁸ absolute below 6·10⁻⁵, half precision's
    /// subnormal range — widened back to float32 when a patch is cropped).
    public enum Storage: String, Sendable, CaseIterable {
        case float32, float16
    }

    /// The cases, in name order.
    public var cases: [TrainingCase]
    /// Channel order of every case.
    public var modalities: [Modality]
    /// The label value of each network class: class k is label `classValues[k]`
    /// (BraTS 2017–2022: [0, 2, 1, 4] — background, edema, NCR/NET, enhancing tumour).
    public var classValues: [Int]
    public var storage: Storage

    /// A dataset of cases already in memory.
    /// - Throws: `CMFError.invalidArgument` when a case's modalities differ from `modalities`
    ///   or its class count from `classValues`, or for invalid `classValues` (see
    ///   ``validateClassValues(_:)``).
    public init(cases: [TrainingCase], modalities: [Modality], classValues: [Int], storage: Storage) throws {
        try Self.validateClassValues(classValues)
        for c in cases {
            guard c.modalities == modalities else {
                throw CMFError.invalidArgument("case \(c.name) has channels \(c.modalities.map(\.rawValue)), the dataset \(modalities.map(\.rawValue))")
            }
            guard c.foregroundCounts.count == classValues.count - 1 else {
                throw CMFError.invalidArgument("case \(c.name) counts \(c.foregroundCounts.count + 1) classes, the dataset \(classValues.count)")
            }
        }
        self.cases = cases
        self.modalities = modalities
        self.classValues = classValues
        self.storage = storage
    }

    /// Bytes held by all cases (channels, labels, foreground indices).
    public var memoryBytes: Int { cases.reduce(0) { $0 + $1.memoryBytes } }

    /// Checks a class table: 2 to 255 distinct label values in 0...255, background (0) first.
    /// - Throws: `CMFError.invalidArgument` saying what is wrong.
    public static func validateClassValues(_ classValues: [Int]) throws {
        guard classValues.count >= 2, classValues.count <= 255 else {
            throw CMFError.invalidArgument("class values \(classValues): need 2 to 255 classes")
        }
        guard classValues.allSatisfy({ (0...255).contains($0) }), Set(classValues).count == classValues.count else {
            throw CMFError.invalidArgument("class values \(classValues) must be distinct label values in 0...255")
        }
        guard classValues[0] == 0 else {
            throw CMFError.invalidArgument("class values \(classValues): class 0 must be the background label 0")
        }
    }
}
