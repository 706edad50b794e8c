import Glibc

/// The classes a phantom voxel is mixed from (partial volume) and their relative signal in
/// each contrast, white matter on T1 ≈ 0.85.
///
/// The table follows the usual appearance of gliomas on clinical MRI: T1 WM > GM > CSF,
/// tumour hypointense; enhancing tumour bright on T1ce only; edema and necrosis bright on
/// T2; edema brightest on FLAIR, where CSF (and so fluid necrosis, partly) is suppressed.
enum TissueClass: Int, CaseIterable, Sendable {
    // normal tissue first, then the lesion classes
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

    /// The reference table with the lesion classes' difference to white matter scaled by the
    /// variant's `lesionContrast`, then every entry scaled by exp(N(0, σ)) clamped to ±limit
    /// (standard: σ 0.04, limit 0.08 — small enough to keep every ordering above).
    static func jittered(_ rng: inout SeededRandom, _ ranges: PhantomVariant.Ranges) -> TissueIntensities {
        var t = reference
        let (sigma, limit) = ranges.intensityJitter
        for m in Modality.allCases {
            let row = t.value[m] ?? []
            let wm = row[TissueClass.wm.rawValue]
            t.value[m] = row.enumerated().map { k, v in
                // the standard variant keeps the reference bytes (wm + (v − wm) may round)
                let lesion = k >= TissueClass.ncr.rawValue && ranges.lesionContrast != 1
                let base = lesion ? wm + ranges.lesionContrast * (v - wm) : v
                return base * exp(max(-limit, min(limit, rng.normal() * sigma)))
            }
        }
        return t
    }
}
