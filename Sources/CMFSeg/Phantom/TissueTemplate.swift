/// The anatomy a phantom starts from: a brain mask and grey/white-matter probability maps
/// on one voxel grid (by default the MNI152 2009a template, see `TissueTemplate+MNI152`).
///
/// Channels are stored interleaved in `channels` (mask, GM, WM of voxel 0, then of voxel 1,
/// …; values in 0…1, voxels x fastest), the layout `cmfk_warp_trilinear_f32` samples from.
/// CSF is implied: mask − GM − WM.
public struct TissueTemplate: Sendable {
    public var shape: Shape3
    /// Row-major 4×4 voxel → world (RAS, mm).
    public var affine: [Double]
    /// (mask, gm, wm) per voxel: 3 × shape.count values in 0…1.
    public var channels: [Float]
    /// Inclusive voxel box {x0, y0, z0, x1, y1, z1} outside which every channel is 0.
    public var dataBox: [Int64]
    /// World point (mm) placed at the phantom grid's brain anchor: the centre of the
    /// mask's bounding box in x and y, in z its midpoint.
    public var anchorWorld: SIMD3<Double>

    /// - Throws: `CMFError.shape` when the channel count or the affine does not fit.
    public init(shape: Shape3, affine: [Double], mask: [Float], gm: [Float], wm: [Float]) throws {
        guard shape.nx > 0, shape.ny > 0, shape.nz > 0,
              mask.count == shape.count, gm.count == shape.count, wm.count == shape.count else {
            throw CMFError.shape("tissue template: mask, GM and WM must all have \(shape.count) voxels")
        }
        guard affine.count == 16, TissueTemplate.invert(affine) != nil else {
            throw CMFError.shape("tissue template: the voxel-to-world affine is not invertible")
        }
        self.shape = shape
        self.affine = affine
        var ch = [Float](repeating: 0, count: 3 * shape.count)
        var lo = SIMD3<Int>(Int.max, Int.max, Int.max), hi = SIMD3<Int>(-1, -1, -1)
        var dlo = lo, dhi = hi
        mask.withUnsafeBufferPointer { mp in
            gm.withUnsafeBufferPointer { gp in
                wm.withUnsafeBufferPointer { wp in
                    ch.withUnsafeMutableBufferPointer { c in
                        var i = 0
                        for z in 0..<shape.nz {
                            for y in 0..<shape.ny {
                                var rowHasBrain = false, xlo = Int.max, xhi = -1
                                var rowHasData = false, dxlo = Int.max, dxhi = -1
                                for x in 0..<shape.nx {
                                    let m = min(max(mp[i], 0), 1)
                                    // probabilities clipped into the mask so that CSF = m − g − w ≥ 0
                                    let g = min(max(gp[i], 0), m)
                                    let w = min(max(wp[i], 0), m - g)
                                    c[3 * i] = m; c[3 * i + 1] = g; c[3 * i + 2] = w
                                    if m >= 0.5 { rowHasBrain = true; xlo = min(xlo, x); xhi = max(xhi, x) }
                                    if m > 0 { rowHasData = true; dxlo = min(dxlo, x); dxhi = max(dxhi, x) }
                                    i += 1
                                }
                                if rowHasData {
                                    dlo = pointwiseMin(dlo, SIMD3(dxlo, y, z))
                                    dhi = pointwiseMax(dhi, SIMD3(dxhi, y, z))
                                }
                                if rowHasBrain {
                                    lo = pointwiseMin(lo, SIMD3(xlo, y, z))
                                    hi = pointwiseMax(hi, SIMD3(xhi, y, z))
                                }
                            }
                        }
                    }
                }
            }
        }
        guard hi.x >= 0 else { throw CMFError.shape("tissue template: the brain mask is empty") }
        self.channels = ch
        self.dataBox = [dlo.x, dlo.y, dlo.z, dhi.x, dhi.y, dhi.z].map { Int64($0) }
        let mid = SIMD3<Double>(Double(lo.x + hi.x) / 2, Double(lo.y + hi.y) / 2, Double(lo.z + hi.z) / 2)
        self.anchorWorld = TissueTemplate.apply(affine, mid)
    }

    static func apply(_ m: [Double], _ p: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3],
              m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7],
              m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11])
    }

    /// Inverse of a row-major 4×4 affine (last row 0 0 0 1), nil when singular.
    static func invert(_ m: [Double]) -> [Double]? {
        let a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9], k = m[10]
        let det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g)
        guard det.isFinite, abs(det) > 1e-12 else { return nil }
        let r = [(e * k - f * h) / det, (c * h - b * k) / det, (b * f - c * e) / det,
                 (f * g - d * k) / det, (a * k - c * g) / det, (c * d - a * f) / det,
                 (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]
        let t = SIMD3(m[3], m[7], m[11])
        let tx = -(r[0] * t.x + r[1] * t.y + r[2] * t.z)
        let ty = -(r[3] * t.x + r[4] * t.y + r[5] * t.z)
        let tz = -(r[6] * t.x + r[7] * t.y + r[8] * t.z)
        return [r[0], r[1], r[2], tx, r[3], r[4], r[5], ty, r[6], r[7], r[8], tz, 0, 0, 0, 1]
    }

    /// Product of two row-major 4×4 matrices.
    static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var r = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { for k in 0..<4 { r[4 * i + j] += a[4 * i + k] * b[4 * k + j] } } }
        return r
    }
}
