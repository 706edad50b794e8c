/// The MRI volumes of one case, keyed by modality (a missing modality is simply absent),
/// with the names of their sources (file paths) for error messages.
public struct CaseInput: Sendable {
    public var volumes: [Modality: ImageVolume]
    /// Where each volume came from ("case_t1.nii.gz"); a volume without an entry is named
    /// by its modality.
    public var sources: [Modality: String]

    public init(volumes: [Modality: ImageVolume], sources: [Modality: String] = [:]) {
        self.volumes = volumes
        self.sources = sources
    }

    /// The available modalities in BraTS order (t1, t1ce, t2, flair).
    public var available: [Modality] { Modality.allCases.filter { volumes[$0] != nil } }

    /// "t1 (case_t1.nii.gz)" or "t1".
    public func name(_ m: Modality) -> String {
        if let s = sources[m], !s.isEmpty { return "\(m.rawValue) (\(s))" }
        return m.rawValue
    }
}
