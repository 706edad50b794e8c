import CCMFKernels
import Glibc

/// Sliding-window inference with Gaussian importance weighting (nnU-Net's scheme).
///
/// Windows: along each axis of size n with patch p and overlap o, nnU-Net's
/// `compute_steps_for_sliding_window` — k = ⌈(n − p) / (p·(1 − o))⌉ + 1 windows, starts
/// `round(i · (n − p)/(k − 1))` (round half to even, as numpy), so the first window starts at
/// 0 and the last ends at n. Every window's class probabilities are multiplied by the
/// importance map and summed; the sum is divided by the summed weights at the end, so a
/// voxel's probability is the weighted mean over the windows that contain it.
/// With mirroring, each window is predicted for the 8 flip combinations of its 3 axes, each
/// output flipped back, and the 8 averaged before weighting.
public enum SlidingWindow {
    /// Which axes a mirroring flips.
    public struct Flip: Equatable, Sendable {
        public var x = false, y = false, z = false
        public init(x: Bool = false, y: Bool = false, z: Bool = false) { self.x = x; self.y = y; self.z = z }
        /// The 8 combinations, identity first.
        public static let all: [Flip] = (0..<8).map { Flip(x: ($0 & 1) != 0, y: ($0 & 2) != 0, z: ($0 & 4) != 0) }
    }

    /// Window starts along one axis. Requires `size >= patch >= 1`, `0 <= overlap < 1`.
    public static func starts(size: Int, patch: Int, overlap: Double) -> [Int] {
        guard size > patch else { return [0] }
        let step = max(Double(patch) * (1 - overlap), 1)
        let count = Int((Double(size - patch) / step).rounded(.up)) + 1
        let actual = Double(size - patch) / Double(count - 1)
        return (0..<count).map { Int((actual * Double($0)).rounded(.toNearestOrEven)) }
    }

    /// The Gaussian importance map of a window, x fastest: the product of 1-D Gaussians
    /// exp(−(i − c)² / (2σ²)) with c = (p − 1)/2 (the window centre) and σ = sigmaScale · p,
    /// divided by its maximum. Its smallest value, at a corner, is about exp(−3 · 8) ≈ 4e-11
    /// for σ = p/8 (and never below the smallest normal float), so it has no zeros.
    public static func importanceMap(patch: Shape3, sigmaScale: Double) -> [Float] {
        func axis(_ p: Int) -> [Double] {
            let c = Double(p - 1) / 2, s = sigmaScale * Double(p)
            return (0..<p).map { exp(-(Double($0) - c) * (Double($0) - c) / (2 * s * s)) }
        }
        let gx = axis(patch.nx), gy = axis(patch.ny), gz = axis(patch.nz)
        let peak = (gx.max() ?? 1) * (gy.max() ?? 1) * (gz.max() ?? 1)
        var map = [Float](repeating: 0, count: patch.count)
        var i = 0
        for z in 0..<patch.nz {
            for y in 0..<patch.ny {
                let yz = gy[y] * gz[z] / peak
                for x in 0..<patch.nx {
                    map[i] = max(Float(gx[x] * yz), Float.leastNormalMagnitude)
                    i += 1
                }
            }
        }
        return map
    }

    /// What ``predict(_:input:options:control:)`` computed.
    public struct Prediction: Sendable {
        /// `[1, K, D, H, W]` class probabilities, K = the predictor's `classCount`.
        public var probabilities: Tensor
        /// Windows slid over the input.
        public var windows: Int
        /// Network calls made: windows × flips (8 with mirroring, else 1).
        public var networkCalls: Int
    }

    /// Class probabilities for a whole pre-processed input.
    /// - Parameters:
    ///   - input: `[1, C, D, H, W]` with C = `predictor.modalities.count` and each spatial
    ///     size at least the patch (the pre-processor pads to it).
    ///   - control: progress reporting and cancellation, checked between network calls.
    /// - Returns: the probabilities, with the windows and network calls it took.
    /// - Throws: `CMFError.invalidArgument` (options), `.shape` (input smaller than a patch,
    ///   wrong channel count, a predictor returning another shape), `.aborted`, and whatever
    ///   the predictor throws.
    public static func predict(_ predictor: any PatchPredictor, input: Tensor, options: SlidingWindowOptions,
                               control: InferenceControl = InferenceControl()) throws -> Prediction {
        try options.validate(sizeMultiple: predictor.sizeMultiple)
        let c = predictor.modalities.count, k = predictor.classCount
        guard input.shape.count == 5, input.shape[0] == 1, input.shape[1] == c else {
            throw CMFError.shape("sliding-window input has shape \(input.shape); expected [1, \(c), D, H, W]")
        }
        guard k >= 1 else { throw CMFError.internal("predictor reports \(k) classes") }
        let grid = Shape3(input.shape[4], input.shape[3], input.shape[2])
        let p = options.patch
        guard grid.nx >= p.nx, grid.ny >= p.ny, grid.nz >= p.nz else {
            throw CMFError.shape("input \(grid) is smaller than the patch \(p); pad it first")
        }
        let xs = starts(size: grid.nx, patch: p.nx, overlap: options.overlap)
        let ys = starts(size: grid.ny, patch: p.ny, overlap: options.overlap)
        let zs = starts(size: grid.nz, patch: p.nz, overlap: options.overlap)
        let flips: [Flip] = options.mirroring ? Flip.all : [Flip()]
        let windows = xs.count * ys.count * zs.count
        let total = windows * flips.count
        let weight = importanceMap(patch: p, sigmaScale: options.sigmaScale)
        var sum = [Float](repeating: 0, count: k * grid.count)
        var weightSum = [Float](repeating: 0, count: grid.count)
        var done = 0
        try control.check(done: 0, of: total)
        try control.report(done: 0, of: total)
        for z0 in zs {
            for y0 in ys {
                for x0 in xs {
                    let origin = SIMD3(x0, y0, z0)
                    // Without mirroring the network's output is used as it is; with it, the
                    // flips' outputs (flipped back) are averaged.
                    var single: TensorStorage?
                    var flipMean = [Float](repeating: 0, count: flips.count > 1 ? k * p.count : 0)
                    for flip in flips {
                        try control.check(done: done, of: total)
                        let x = Tensor(shape: [1, c, p.nz, p.ny, p.nx],
                                       storage: try crop(input.storage, channels: c, grid: grid, origin: origin, patch: p, flip: flip))
                        let y = try predictor.probabilities(for: x)
                        guard y.shape == [1, k, p.nz, p.ny, p.nx] else {
                            throw CMFError.shape("the network returned \(y.shape) for a \(x.shape) window; expected [1, \(k), \(p.nz), \(p.ny), \(p.nx)]")
                        }
                        if flips.count == 1 {
                            single = y.storage
                        } else {
                            let back = try crop(y.storage, channels: k, grid: p, origin: SIMD3(0, 0, 0), patch: p, flip: flip)
                            let scale = 1 / Float(flips.count)
                            for i in 0..<flipMean.count { flipMean[i] += back[i] * scale }
                        }
                        done += 1
                        try control.report(done: done, of: total)
                    }
                    let mean = single ?? TensorStorage(flipMean)
                    mean.withUnsafeBufferPointer { probs in
                        accumulate(probs, weight: weight, classes: k, patch: p, origin: origin,
                                   into: &sum, weightSum: &weightSum, grid: grid)
                    }
                }
            }
        }
        sum.withUnsafeMutableBufferPointer { s in
            weightSum.withUnsafeBufferPointer { w in
                for ch in 0..<k {
                    let base = ch * grid.count
                    for i in 0..<grid.count { s[base + i] /= w[i] }
                }
            }
        }
        return Prediction(probabilities: Tensor(shape: [1, k, grid.nz, grid.ny, grid.nx], storage: sum),
                          windows: windows, networkCalls: total)
    }

    /// The `[channels, patch]` block at `origin` of a `[channels, grid]` array, mirrored
    /// inside the block along the axes `flip` sets (so flipping a window's output with the
    /// same `flip` puts it back in place).
    static func crop(_ data: TensorStorage, channels: Int, grid: Shape3, origin: SIMD3<Int>, patch p: Shape3,
                     flip: Flip) throws -> [Float] {
        var out = [Float](repeating: 0, count: channels * p.count)
        let rc = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                cmfk_patch_crop_f32(src.baseAddress, Int64(channels), Int64(grid.nx), Int64(grid.ny), Int64(grid.nz),
                                    Int64(origin.x), Int64(origin.y), Int64(origin.z), Int64(p.nx), Int64(p.ny), Int64(p.nz),
                                    flip.x ? 1 : 0, flip.y ? 1 : 0, flip.z ? 1 : 0, dst.baseAddress)
            }
        }
        guard rc == 0 else { throw CMFError.internal("window \(p) at \(origin) is not inside \(grid)") }
        return out
    }

    /// Adds a window's probabilities times the importance map into `sum`, and the map into
    /// `weightSum`, at the window's place in the grid.
    static func accumulate(_ pr: UnsafeBufferPointer<Float>, weight: [Float], classes: Int, patch p: Shape3, origin: SIMD3<Int>,
                           into sum: inout [Float], weightSum: inout [Float], grid: Shape3) {
        weight.withUnsafeBufferPointer { w in
            sum.withUnsafeMutableBufferPointer { s in
                weightSum.withUnsafeMutableBufferPointer { ws in
                    for z in 0..<p.nz {
                        for y in 0..<p.ny {
                            let g = grid.index(origin.x, origin.y + y, origin.z + z)
                            let l = p.index(0, y, z)
                            for x in 0..<p.nx { ws[g + x] += w[l + x] }
                            for c in 0..<classes {
                                let gs = c * grid.count + g, ls = c * p.count + l
                                for x in 0..<p.nx { s[gs + x] += pr[ls + x] * w[l + x] }
                            }
                        }
                    }
                }
            }
        }
    }
}
