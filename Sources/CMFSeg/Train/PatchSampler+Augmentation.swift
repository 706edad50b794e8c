import CCMFKernels
import Glibc

extension PatchSampler {
    /// Applies the draw's intensity transformations channel by channel, in place on the
    /// patch's `[C, D, H, W]` values (see ``AugmentationOptions`` and `cmf_patch.h`).
    func applyIntensity(_ draw: Draw, to storage: inout [Float]) {
        let a = draw.augmentation
        guard a.scale != nil || a.shift != nil || a.gamma != nil || draw.biasCoefficients != nil else { return }
        let p = patch
        storage.withUnsafeMutableBufferPointer { buf in
            for c in 0..<dataset.modalities.count {
                let gamma = Float(a.gamma?[c] ?? 1), scale = Float(a.scale?[c] ?? 1), shift = Float(a.shift?[c] ?? 0)
                let x = buf.baseAddress! + c * p.count
                if let coefficients = draw.biasCoefficients?[c], let amplitude = a.biasAmplitude?[c] {
                    let (bx, by, bz) = Self.biasProfiles(coefficients, amplitude: amplitude, patch: p)
                    _ = cmfk_patch_intensity_f32(x, Int64(p.nx), Int64(p.ny), Int64(p.nz), bx, by, bz, gamma, scale, shift)
                } else if gamma != 1 || scale != 1 || shift != 0 {
                    _ = cmfk_patch_intensity_f32(x, Int64(p.nx), Int64(p.ny), Int64(p.nz), nil, nil, nil, gamma, scale, shift)
                }
            }
        }
    }

    /// The bias field `exp(f)` as three 1-D profiles whose product is the field: f = Σ over
    /// the axes of c₁P₁(u) + c₂P₂(u) + c₃P₃(u) (Legendre polynomials, u ∈ (−1, 1) the voxel
    /// centres of the patch along the axis; coefficients x's three, then y's, then z's),
    /// scaled so that max |f| over the patch is `amplitude` (exactly: the extremes of a sum of
    /// per-axis terms are the sums of their extremes).
    static func biasProfiles(_ coefficients: [Double], amplitude: Double, patch: Shape3) -> ([Float], [Float], [Float]) {
        func terms(_ n: Int, _ c: ArraySlice<Double>) -> [Double] {
            let c = Array(c)
            return (0..<n).map { i in
                let u = (2 * Double(i) + 1) / Double(n) - 1
                return c[0] * u + c[1] * (3 * u * u - 1) / 2 + c[2] * (5 * u * u * u - 3 * u) / 2
            }
        }
        let f = [terms(patch.nx, coefficients[0..<3]), terms(patch.ny, coefficients[3..<6]), terms(patch.nz, coefficients[6..<9])]
        let high = f.reduce(0) { $0 + ($1.max() ?? 0) }, low = f.reduce(0) { $0 + ($1.min() ?? 0) }
        let extent = max(abs(high), abs(low))
        let k = extent > 0 ? amplitude / extent : 0
        let profiles = f.map { axis in axis.map { Float(exp(k * $0)) } }
        return (profiles[0], profiles[1], profiles[2])
    }
}
