import CCMFKernels
import Foundation

/// Turns tissue and tumour fractions into the four MRI contrasts.
///
/// Per brain voxel i and contrast m:
/// `I_m(i) = G_m · 1000 · B_m(i) · Σ_k f_k(i) · v_{m,k} · (1 + a_k · T_k(i))`, then Rician
/// noise |I + σ_m (g₁ + i g₂)|, and 0 outside the brain mask (skull-stripped).
/// f_k: partial-volume fractions (CSF, GM, WM shrunk to make room for the tumour
/// compartments); v: `TissueIntensities`; T: smooth texture (3 mm for normal tissue, 4 mm
/// for tumour, shared by the contrasts, amplitude a 0.04 normal / 0.06 edema / 0.10 core);
/// B_m = exp(0.12 · smooth noise at 60 mm) a multiplicative bias field per contrast; G_m a
/// scanner gain in 0.8–1.25; σ_m = 2–3.5 % of the WM signal.
struct ContrastSynthesis {
    var intensities: TissueIntensities
    var gain: [Modality: Double]
    var noiseFraction: [Modality: Double]

    static func random(_ rng: inout PhantomRandom) -> ContrastSynthesis {
        let table = TissueIntensities.jittered(&rng)
        var gain: [Modality: Double] = [:], noise: [Modality: Double] = [:]
        for m in Modality.allCases {
            gain[m] = rng.uniform(0.8, 1.25)
            noise[m] = rng.uniform(0.02, 0.035)
        }
        return ContrastSynthesis(intensities: table, gain: gain, noiseFraction: noise)
    }

    func render(tissue: TissueMaps, tumour: TumourFractions, grid: PhantomGrid, threads: Int,
                rng: inout PhantomRandom) throws -> [Modality: [Float]] {
        let shape = grid.shape, n = shape.count
        let sp = SIMD3(grid.spacing, grid.spacing, grid.spacing)
        let texNormal = try SmoothNoise.field(shape: shape, spacing: sp, controlSpacing: 3, threads: threads, rng: &rng)
        let texTumour = try SmoothNoise.field(shape: shape, spacing: sp, controlSpacing: 4, threads: threads, rng: &rng)
        var out: [Modality: [Float]] = [:]
        for m in Modality.allCases {
            let bias = try SmoothNoise.field(shape: shape, spacing: sp, controlSpacing: 60, threads: threads, rng: &rng)
            let key = rng.key()
            let v = (intensities.value[m] ?? []).map { Float($0) }
            guard v.count == TissueClass.allCases.count else {
                throw CMFError.internal("phantom: intensity table for \(m.rawValue) is incomplete")
            }
            let scale = Float(1000 * (gain[m] ?? 1))
            var img = [Float](repeating: 0, count: n)
            img.withUnsafeMutableBufferPointer { o in
                for i in 0..<n where tissue.brain[i] != 0 {
                    let mk = tissue.mask[i]
                    let ncr = tumour.ncr[i], net = tumour.net[i], et = tumour.et[i], ed = tumour.ed[i]
                    let t = ncr + net + et + ed
                    let share = mk > 0 ? max(0, mk - t) / mk : 0
                    let tn = 1 + 0.04 * texNormal[i], tt = 1 + 0.10 * texTumour[i], te = 1 + 0.06 * texTumour[i]
                    var s = tissue.csf[i] * share * v[0] * tn
                    s += tissue.gm[i] * share * v[1] * tn
                    s += tissue.wm[i] * share * v[2] * tn
                    s += (ncr * v[3] + net * v[4] + et * v[5]) * tt
                    s += ed * v[6] * te
                    o[i] = max(0, s * scale * exp(0.12 * bias[i]))
                }
            }
            let sigma = Float(noiseFraction[m] ?? 0.03) * scale * v[2]
            img.withUnsafeMutableBufferPointer { o in
                tissue.brain.withUnsafeBufferPointer { b in
                    cmfk_rician_noise_f32(o.baseAddress, b.baseAddress, Int64(n), sigma, key, Int32(threads))
                }
            }
            out[m] = img
        }
        return out
    }
}
