import CCMFKernels
import Glibc

/// Turns tissue and tumour fractions into the four MRI contrasts.
///
/// Per brain voxel i and contrast m:
/// `I_m(i) = G_m · 1000 · B_m(i) · Σ_k f_k(i) · v_{m,k} · (1 + a_k · T_k(i))`, then Rician
/// noise |I + σ_m (g₁ + i g₂)|, and 0 outside the brain mask (skull-stripped).
/// f_k: partial-volume fractions (CSF, GM, WM shrunk to make room for the tumour
/// compartments); v: `TissueIntensities`; T: smooth texture (3 mm for normal tissue, 4 mm
/// for tumour, shared by the contrasts, amplitude a 0.04 normal / 0.06 edema / 0.10 core);
/// B_m = exp(b · smooth noise at 60 mm) a multiplicative bias field per contrast; G_m a
/// scanner gain; σ_m a fraction of the WM signal (standard variant: b = 0.12, G_m in
/// 0.8–1.25, σ_m 2–3.5 %; see ``PhantomVariant``).
struct ContrastSynthesis {
    var intensities: TissueIntensities
    var gain: [Modality: Double]
    var noiseFraction: [Modality: Double]
    var biasAmplitude: Float

    static func random(_ rng: inout SeededRandom, _ ranges: PhantomVariant.Ranges) -> ContrastSynthesis {
        let table = TissueIntensities.jittered(&rng, ranges)
        var gain: [Modality: Double] = [:], noise: [Modality: Double] = [:]
        for m in Modality.allCases {
            gain[m] = rng.uniform(ranges.gain)
            noise[m] = rng.uniform(ranges.noise)
        }
        return ContrastSynthesis(intensities: table, gain: gain, noiseFraction: noise,
                                 biasAmplitude: Float(ranges.biasAmplitude))
    }

    func render(tissue: TissueMaps, tumour: TumourFractions, grid: PhantomGrid, threads: Int,
                rng: inout SeededRandom) throws -> [Modality: [Float]] {
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
            let biasAmplitude = self.biasAmplitude
            let k = (csf: v[0], gm: v[1], wm: v[2], ncr: v[3], net: v[4], et: v[5], ed: v[6])
            img.withUnsafeMutableBufferPointer { o in
                let views = [tissue.mask, tissue.csf, tissue.gm, tissue.wm, tumour.ncr, tumour.net, tumour.et,
                             tumour.ed, texNormal, texTumour, bias]
                withUnsafeBuffers(views) { p in
                    tissue.brain.withUnsafeBufferPointer { brain in
                        let (mask, csf, gm, wm, ncrF, netF, etF, edF, tn, tt, bf) =
                            (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10])
                        for i in 0..<n where brain[i] != 0 {
                            let mk = mask[i]
                            let ncr = ncrF[i], net = netF[i], et = etF[i], ed = edF[i]
                            let share = mk > 0 ? max(0, mk - (ncr + net + et + ed)) / mk : 0
                            let normal = 1 + 0.04 * tn[i], core = 1 + 0.10 * tt[i], edema = 1 + 0.06 * tt[i]
                            var s = (csf[i] * k.csf + gm[i] * k.gm + wm[i] * k.wm) * share * normal
                            s += (ncr * k.ncr + net * k.net + et * k.et) * core
                            s += ed * k.ed * edema
                            o[i] = max(0, s * scale * exp(biasAmplitude * bf[i]))
                        }
                    }
                }
            }
            let sigma = Float(noiseFraction[m] ?? 0.03) * scale * v[2]
            img.withUnsafeMutableBufferPointer { o in
                tissue.brain.withUnsafeBufferPointer { b in
                    cmfk_rician_noise_f32(o.baseAddress, b.baseAddress, Int64(n), sigma, key, Int32(clamping: threads))
                }
            }
            out[m] = img
        }
        return out
    }
}

/// Calls `body` with read-only buffer pointers to every array (kept alive for the call).
func withUnsafeBuffers<R>(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) throws -> R) rethrows -> R {
    func go(_ k: Int, _ acc: [UnsafeBufferPointer<Float>]) throws -> R {
        if k == arrays.count { return try body(acc) }
        return try arrays[k].withUnsafeBufferPointer { try go(k + 1, acc + [$0]) }
    }
    return try go(0, [])
}
