/// One generated BraTS-like case: the four contrasts (float32, 0 outside the brain), the
/// label map (0 background, 1 NCR/NET, 2 edema, 4 enhancing tumour) and what was drawn.
public struct PhantomCase: Sendable {
    /// `phantom_0000`, `phantom_0001`, …
    public var name: String
    public var images: [Modality: ImageVolume]
    public var labels: LabelMap
    /// The gliomas' kinds, e.g. `["ring", "solid"]`.
    public var tumourKinds: [String]

    /// The case name for index `i` (4 digits, more when needed).
    public static func name(index i: Int) -> String {
        let digits = String(i)
        return "phantom_" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
