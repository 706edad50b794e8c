import Foundation

/// The classes a phantom voxel is mixed from (partial volume) and their relative signal in
/// each contrast, white matter on T1 ≈ 0.85.
///
/// The table follows the usual appearance of gliomas on clinical MRI: T1 WM > GM > CSF,
/// tumour hypointense; enhancing tumour bright on T1ce only; edema and necrosis bright on
/// T2; edema brightest on FLAIR, where CSF (and so fluid necrosis, partly) is suppressed.
enum TissueClass: Int, CaseIterable, Sendable {
    case csf, gm, wm, ncr, net, et, ed
}

struct TissueIntensities: Sendable {
    /// value[modality][class]
    var value: [Modality: [Double]]

    static let reference: TissueIntensities = {
        //                 csf   gm    wm    ncr   net   et    ed
        let t1: [Double]    = [0.30, 0.62, 0.85, 0.28, 0.45, 0.55, 0.55]
        let t1ce: [Double]  = [0.32, 0.64, 0.86, 0.30, 0.52, 1.30, 0.58]
        let t2: [Double]    = [1.00, 0.62, 0.42, 0.95, 0.78, 0.70, 0.85]
        let flair: [Double] = [0.10, 0.60, 0.45, 0.50, 0.80, 0.75, 0.98]
        return TissueIntensities(value: [.t1: t1, .t1ce: t1ce, .t2: t2, .flair: flair])
    }()

    /// The reference table with every entry scaled by exp(N(0, 0.04)) (per-case variation
    /// small enough to keep every ordering above).
    static func jittered(_ rng: inout SeededRandom) -> TissueIntensities {
        var t = reference
        for m in Modality.allCases {
            t.value[m] = (t.value[m] ?? []).map { $0 * exp(max(-0.08, min(0.08, rng.normal() * 0.04))) }
        }
        return t
    }
}
