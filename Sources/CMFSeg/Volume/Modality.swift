/// The four MRI contrasts of a BraTS case, in BraTS file-name order.
public enum Modality: String, CaseIterable, Sendable, Hashable {
    case t1, t1ce, t2, flair

    /// The two modality pairs of the CMFF method: pair A (T1, T1ce) and pair B (T2, FLAIR).
    public static let pairA: [Modality] = [.t1, .t1ce]
    public static let pairB: [Modality] = [.t2, .flair]
}
