import CCMFKernels
import XCTest

/// The oneDNN backward kernels against their naive twins, the training forwards against the
/// inference ones, and the element-wise backward kernels' fixed rules (pooling ties and NaN,
/// odd-size remainders, aliasing), at 1 and 2 threads. Finite-difference checks of every
/// gradient are in CMFSegTests/Tensor/BackwardTests.swift.
final class BackwardKernelTests: XCTestCase {
    /// Deterministic uniform values in [-1, 1).
    struct LCG {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(s >> 40) / Float(1 << 23) - 1
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    struct ConvCase {
        var n: Int, ci: Int, co: Int, k: Int, stride: Int, pad: Int, dims: [Int]
        var outDims: [Int] { dims.map { ($0 + 2 * pad - k) / stride + 1 } }
        var label: String { "n\(n) ci\(ci) co\(co) k\(k) s\(stride) p\(pad) \(dims)" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(n: 1, ci: 16, co: 16, k: 3, stride: 1, pad: 1, dims: [8, 6, 10]),
        ConvCase(n: 2, ci: 32, co: 16, k: 3, stride: 1, pad: 1, dims: [4, 4, 8]),   // both layouts through the transposer
        ConvCase(n: 2, ci: 3, co: 5, k: 3, stride: 1, pad: 1, dims: [5, 4, 6]),
        ConvCase(n: 1, ci: 2, co: 4, k: 3, stride: 1, pad: 1, dims: [6, 6, 6]),
        ConvCase(n: 2, ci: 16, co: 4, k: 1, stride: 1, pad: 0, dims: [4, 5, 6]),
        ConvCase(n: 1, ci: 8, co: 16, k: 1, stride: 1, pad: 0, dims: [3, 3, 7]),
        ConvCase(n: 1, ci: 2, co: 4, k: 4, stride: 2, pad: 1, dims: [8, 10, 12]),
        ConvCase(n: 2, ci: 16, co: 32, k: 4, stride: 2, pad: 1, dims: [6, 6, 8]),
        ConvCase(n: 1, ci: 4, co: 8, k: 4, stride: 2, pad: 1, dims: [7, 9, 5]),      // odd: the output floors
        ConvCase(n: 2, ci: 32, co: 1, k: 4, stride: 2, pad: 1, dims: [5, 7, 9]),
        ConvCase(n: 1, ci: 3, co: 2, k: 4, stride: 2, pad: 0, dims: [7, 9, 6]),      // odd, no pad: last rows unread
        ConvCase(n: 1, ci: 3, co: 5, k: 3, stride: 2, pad: 0, dims: [7, 8, 5]),
    ]

    func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }
    func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { m, p in let d = abs(p.0 - p.1); return d.isNaN ? .infinity : max(m, d) }
    }

    func testConvBackwardDataOneDNNMatchesNaive() {
        var rng = LCG(s: 11)
        var worst: Float = 0
        for c in Self.convCases {
            let gout = rng.array(c.n * c.co * c.outDims.reduce(1, *))
            let wt = rng.array(c.co * c.ci * c.k * c.k * c.k)
            let inCount = c.n * c.ci * c.dims.reduce(1, *)
            var ref = [Float](repeating: .nan, count: inCount)
            XCTAssertEqual(cmfk_conv3d_backward_data_f32_naive(gout, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]),
                                                               Int64(c.dims[2]), wt, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k),
                                                               Int64(c.stride), Int64(c.pad), &ref, 2), 0)
            for threads: Int32 in [1, 2] {
                var fast = [Float](repeating: .nan, count: inCount)
                XCTAssertEqual(cmfk_conv3d_backward_data_f32(gout, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]),
                                                             Int64(c.dims[2]), wt, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k),
                                                             Int64(c.stride), Int64(c.pad), &fast, threads), 0, c.label)
                let e = maxDiff(fast, ref) / max(maxAbs(ref), 1)
                worst = max(worst, e)
                XCTAssertLessThanOrEqual(e, 1e-5, "\(c.label) threads \(threads): largest relative difference \(e)")
            }
            if c.pad == 0 && c.stride == 2 && (c.dims[0] - c.k) % 2 == 1 {
                // The forward never reads the last z row: its gradient is exactly 0 in both.
                let plane = c.dims.reduce(1, *), hw = c.dims[1] * c.dims[2]
                for p in 0..<(c.n * c.ci) {
                    let row = Array(ref[(p * plane + (c.dims[0] - 1) * hw)..<((p + 1) * plane)])
                    XCTAssertEqual(row, [Float](repeating: 0, count: hw), c.label)
                }
            }
        }
        print("conv backward data, oneDNN vs naive: worst relative difference \(worst)")
    }

    func testConvBackwardWeightsOneDNNMatchesNaive() {
        var rng = LCG(s: 12)
        var worst: Float = 0
        for (index, c) in Self.convCases.enumerated() {
            let x = rng.array(c.n * c.ci * c.dims.reduce(1, *))
            let gout = rng.array(c.n * c.co * c.outDims.reduce(1, *))
            let wCount = c.co * c.ci * c.k * c.k * c.k
            let withBias = index % 3 != 2
            var refW = [Float](repeating: .nan, count: wCount), refB = [Float](repeating: .nan, count: c.co)
            let rc = refB.withUnsafeMutableBufferPointer { b in
                cmfk_conv3d_backward_weights_f32_naive(x, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]), Int64(c.dims[2]),
                                                       gout, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k), Int64(c.stride),
                                                       Int64(c.pad), &refW, withBias ? b.baseAddress : nil, 2)
            }
            XCTAssertEqual(rc, 0)
            for threads: Int32 in [1, 2] {
                var w = [Float](repeating: .nan, count: wCount), b = [Float](repeating: .nan, count: c.co)
                let rc = b.withUnsafeMutableBufferPointer { bp in
                    cmfk_conv3d_backward_weights_f32(x, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]), Int64(c.dims[2]),
                                                     gout, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k), Int64(c.stride),
                                                     Int64(c.pad), &w, withBias ? bp.baseAddress : nil, threads)
                }
                XCTAssertEqual(rc, 0, c.label)
                let e = maxDiff(w, refW) / max(maxAbs(refW), 1)
                worst = max(worst, e)
                XCTAssertLessThanOrEqual(e, 1e-5, "\(c.label) threads \(threads): weights, largest relative difference \(e)")
                if withBias {
                    let eb = maxDiff(b, refB) / max(maxAbs(refB), 1)
                    worst = max(worst, eb)
                    XCTAssertLessThanOrEqual(eb, 1e-5, "\(c.label) threads \(threads): bias, largest relative difference \(eb)")
                } else {
                    XCTAssertTrue(b.allSatisfy { $0.isNaN }, "bias written although not asked for")
                }
            }
        }
        print("conv backward weights, oneDNN vs naive: worst relative difference \(worst)")
    }

    func testConvBackwardRejectsBadSizes() {
        let src = [Float](repeating: 0, count: 64)
        var out = [Float](repeating: 0, count: 64)
        XCTAssertEqual(cmfk_conv3d_backward_data_f32(src, 1, 1, 2, 2, 2, src, 1, 5, 5, 5, 1, 0, &out, 1), -2)
        XCTAssertEqual(cmfk_conv3d_backward_data_f32_naive(src, 1, 1, 2, 2, 2, src, 1, 3, 3, 3, 0, 1, &out, 1), -2)
        XCTAssertEqual(cmfk_conv3d_backward_weights_f32(src, 0, 1, 2, 2, 2, src, 1, 1, 1, 1, 1, 0, &out, nil, 1), -2)
        XCTAssertEqual(cmfk_conv3d_backward_weights_f32_naive(src, 1, 1, 2, 2, 2, src, 1, 1, 1, 1, 1, -1, &out, nil, 1), -2)
    }

    /// The training forwards give the inference forwards' output bit for bit, and 1/std as
    /// computed directly (double statistics of the convolution output).
    func testTrainingForwardsMatchInference() {
        var rng = LCG(s: 13)
        for c in [Self.convCases[0], Self.convCases[1], Self.convCases[6], Self.convCases[7]] {
            let x = rng.array(c.n * c.ci * c.dims.reduce(1, *))
            let wt = rng.array(c.co * c.ci * c.k * c.k * c.k), b = rng.array(c.co)
            let oplane = c.outDims.reduce(1, *), outCount = c.n * c.co * oplane
            var conv = [Float](repeating: 0, count: outCount)
            XCTAssertEqual(cmfk_conv3d_f32_naive(x, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]), Int64(c.dims[2]),
                                                 wt, b, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k), Int64(c.stride),
                                                 Int64(c.pad), &conv, 1), 0)
            for threads: Int32 in [1, 2] {
                var infer = [Float](repeating: 0, count: outCount), train = infer
                var inv = [Float](repeating: .nan, count: c.n * c.co)
                XCTAssertEqual(cmfk_conv3d_instnorm_lrelu_f32(x, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]),
                                                              Int64(c.dims[2]), wt, b, Int64(c.co), Int64(c.k), Int64(c.k), Int64(c.k),
                                                              Int64(c.stride), Int64(c.pad), 1e-5, 0.2, &infer, threads), 0)
                XCTAssertEqual(cmfk_conv3d_instnorm_lrelu_train_f32(x, Int64(c.n), Int64(c.ci), Int64(c.dims[0]), Int64(c.dims[1]),
                                                                    Int64(c.dims[2]), wt, b, Int64(c.co), Int64(c.k), Int64(c.k),
                                                                    Int64(c.k), Int64(c.stride), Int64(c.pad), 1e-5, 0.2, &train, &inv,
                                                                    threads), 0)
                XCTAssertEqual(train, infer, c.label)
                for p in 0..<(c.n * c.co) {
                    let v = conv[(p * oplane)..<((p + 1) * oplane)].map(Double.init)
                    let mean = v.reduce(0, +) / Double(oplane)
                    let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(oplane)
                    let expected = 1 / (variance + 1e-5).squareRoot()
                    XCTAssertEqual(Double(inv[p]), expected, accuracy: 1e-4 * expected, "\(c.label) plane \(p)")
                }
                // The plain norm kernel: training and inference variants agree too.
                var a = conv, t = conv
                var inv2 = [Float](repeating: .nan, count: c.n * c.co)
                XCTAssertEqual(cmfk_instnorm_lrelu_f32(&a, Int64(c.n * c.co), Int64(oplane), 1e-5, 0.01, threads), 0)
                XCTAssertEqual(cmfk_instnorm_lrelu_train_f32(&t, Int64(c.n * c.co), Int64(oplane), 1e-5, 0.01, &inv2, threads), 0)
                XCTAssertEqual(a, t)
                XCTAssertEqual(maxDiff(inv2, inv) / maxAbs(inv), 0, accuracy: 1e-5)
            }
        }
    }

    /// The norm backward on planes large enough to be split among threads, against the
    /// formula evaluated in double; aliasing grad_x with grad_y gives the same result.
    func testInstanceNormBackwardLargePlanes() {
        var rng = LCG(s: 14)
        let planes = 2, plane = 40_000
        for slope: Float in [0.01, 0.2] {
            var y = rng.array(planes * plane)
            y = y.map { $0 >= 0 ? $0 : $0 * slope }
            let gy = rng.array(planes * plane)
            let inv: [Float] = [0.7, 1.3]
            var expected = [Double](repeating: 0, count: planes * plane)
            for p in 0..<planes {
                let r = (p * plane)..<((p + 1) * plane)
                let n = r.map { y[$0] >= 0 ? Double(y[$0]) : Double(y[$0] / slope) }
                let g = r.map { y[$0] >= 0 ? Double(gy[$0]) : Double(gy[$0]) * Double(slope) }
                let mg = g.reduce(0, +) / Double(plane)
                let mgn = zip(g, n).reduce(0) { $0 + $1.0 * $1.1 } / Double(plane)
                for i in 0..<plane { expected[p * plane + i] = Double(inv[p]) * (g[i] - mg - n[i] * mgn) }
            }
            let scale = expected.reduce(0) { max($0, abs($1)) }
            for threads: Int32 in [1, 2] {
                var gx = [Float](repeating: .nan, count: planes * plane)
                XCTAssertEqual(cmfk_instnorm_lrelu_backward_f32(y, gy, Int64(planes), Int64(plane), inv, slope, &gx, threads), 0)
                let e = zip(gx, expected).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) } / scale
                XCTAssertLessThanOrEqual(e, 1e-6, "slope \(slope) threads \(threads): largest relative difference \(e)")
                var alias = gy
                alias.withUnsafeMutableBufferPointer { a in
                    XCTAssertEqual(cmfk_instnorm_lrelu_backward_f32(y, a.baseAddress, Int64(planes), Int64(plane), inv, slope,
                                                                    a.baseAddress, threads), 0)
                }
                XCTAssertEqual(alias, gx)
            }
        }
        var out = [Float](repeating: 0, count: 4)
        XCTAssertEqual(cmfk_instnorm_lrelu_backward_f32([1, 2, 3, 4], [1, 1, 1, 1], 1, 4, [1], 0, &out, 1), -2)
    }

    /// Ties go to the first value in z, y, x order; a NaN takes the gradient; the rows odd
    /// sizes leave out get 0; every value is written.
    func testMaxPoolBackwardTiesNaNAndRemainders() {
        // One 2x2x2 window with ties (plane 0), one with a NaN (plane 1), d=3 h=2 w=3 (odd d and w).
        let d = 3, h = 2, w = 3, plane = d * h * w
        var x = [Float](repeating: 0, count: 2 * plane)
        func at(_ p: Int, _ z: Int, _ y: Int, _ xx: Int) -> Int { p * plane + (z * h + y) * w + xx }
        x[at(0, 0, 1, 0)] = 5; x[at(0, 1, 0, 1)] = 5; x[at(0, 2, 0, 0)] = 9  // tie in the window; 9 in the unread row
        x[at(1, 0, 0, 0)] = 7; x[at(1, 1, 1, 1)] = .nan; x[at(1, 0, 0, 2)] = 99  // column 2 is unread
        for threads: Int32 in [1, 2] {
            var gi = [Float](repeating: .nan, count: 2 * plane)
            XCTAssertEqual(cmfk_maxpool2_backward_f32(x, 2, Int64(d), Int64(h), Int64(w), [3, 4], &gi, threads), 0)
            var expected = [Float](repeating: 0, count: 2 * plane)
            expected[at(0, 0, 1, 0)] = 3
            expected[at(1, 1, 1, 1)] = 4
            XCTAssertEqual(gi, expected)
        }
        // All -inf: the window's first value, as PyTorch.
        var gi = [Float](repeating: .nan, count: 8)
        XCTAssertEqual(cmfk_maxpool2_backward_f32([Float](repeating: -.infinity, count: 8), 1, 2, 2, 2, [1], &gi, 1), 0)
        XCTAssertEqual(gi, [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(cmfk_maxpool2_backward_f32(x, 1, 1, 2, 2, [1], &gi, 1), -2)
    }

    /// Up-sampling backward is the adjoint: <up(a), g> = <a, up^T(g)> for random a, g, and
    /// writes every value; threads 1 and 2 agree bit for bit.
    func testUpsampleBackwardIsAdjoint() {
        var rng = LCG(s: 15)
        for (planes, d, h, w) in [(3, 4, 3, 5), (2, 1, 2, 3), (1, 5, 1, 1), (4, 8, 8, 8)] {
            let a = rng.array(planes * d * h * w), g = rng.array(planes * 8 * d * h * w)
            var up = [Float](repeating: 0, count: g.count)
            XCTAssertEqual(cmfk_upsample2_trilinear_f32(a, Int64(planes), Int64(d), Int64(h), Int64(w), &up, 1), 0)
            var results: [[Float]] = []
            for threads: Int32 in [1, 2] {
                var gi = [Float](repeating: .nan, count: a.count)
                XCTAssertEqual(cmfk_upsample2_trilinear_backward_f32(g, Int64(planes), Int64(d), Int64(h), Int64(w), &gi, threads), 0)
                let lhs = zip(up, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let rhs = zip(a, gi).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * Double(g.count).squareRoot(), "\(planes) \(d) \(h) \(w)")
                results.append(gi)
            }
            XCTAssertEqual(results[0], results[1])
        }
    }

    /// Softmax and channel-product backward with the gradient array aliased as output.
    func testSoftmaxAndChannelProductBackwardAlias() {
        var rng = LCG(s: 16)
        let n = 2, c = 4, plane = 10
        var s = rng.array(n * c * plane)
        XCTAssertEqual(cmfk_softmax_channels_f32(s, Int64(n), Int64(c), Int64(plane), &s, 1), 0)
        let gs = rng.array(n * c * plane)
        var gx = [Float](repeating: .nan, count: gs.count)
        XCTAssertEqual(cmfk_softmax_channels_backward_f32(s, gs, Int64(n), Int64(c), Int64(plane), &gx, 2), 0)
        var alias = gs
        alias.withUnsafeMutableBufferPointer { a in
            XCTAssertEqual(cmfk_softmax_channels_backward_f32(s, a.baseAddress, Int64(n), Int64(c), Int64(plane), a.baseAddress, 1), 0)
        }
        XCTAssertEqual(alias, gx)
        // Softmax rows sum to 1, so the gradient sums to 0 over channels.
        for b in 0..<n {
            for i in 0..<plane {
                let sum = (0..<c).reduce(0.0) { $0 + Double(gx[(b * c + $1) * plane + i]) }
                XCTAssertEqual(sum, 0, accuracy: 1e-6)
            }
        }
        let x = rng.array(c * plane), m = rng.array(plane), go = rng.array(c * plane)
        var gxm = [Float](repeating: .nan, count: c * plane), gm = [Float](repeating: .nan, count: plane)
        XCTAssertEqual(cmfk_mul_channels_backward_f32(x, Int64(c), Int64(plane), m, go, &gxm, &gm, 2), 0)
        for i in 0..<plane {
            XCTAssertEqual(gm[i], Float((0..<c).reduce(0.0) { $0 + Double(go[$1 * plane + i]) * Double(x[$1 * plane + i]) }))
            for k in 0..<c { XCTAssertEqual(gxm[k * plane + i], go[k * plane + i] * m[i]) }
        }
        var goAlias = go, gm2 = [Float](repeating: .nan, count: plane)
        goAlias.withUnsafeMutableBufferPointer { a in
            XCTAssertEqual(cmfk_mul_channels_backward_f32(x, Int64(c), Int64(plane), m, a.baseAddress, a.baseAddress, &gm2, 1), 0)
        }
        XCTAssertEqual(goAlias, gxm)
        XCTAssertEqual(gm2, gm)
    }

    /// Loss kernels: argument checks, the L1 sign(0) = 0 rule, and 1 vs 2 threads.
    func testLossKernelsRulesAndThreads() {
        var loss = 0.0
        var grad = [Float](repeating: .nan, count: 4)
        XCTAssertEqual(cmfk_l1_loss_f32([1, 2, 3, 4], [1, 3, 2, 4], 4, &loss, &grad, 1), 0)
        XCTAssertEqual(loss, 0.5)
        XCTAssertEqual(grad, [0, -0.25, 0.25, 0])
        XCTAssertEqual(cmfk_mse_const_loss_f32([1, 2, 0, -1], 4, 1, &loss, &grad, 1), 0)
        XCTAssertEqual(loss, 1.5)
        XCTAssertEqual(grad, [0, 0.5, -0.5, -1])
        XCTAssertEqual(cmfk_l1_loss_f32(grad, grad, 0, &loss, nil, 1), -2)
        // Dice: a label >= c is refused, c < 2 too.
        let p: [Float] = [0.5, 0.5, 0.5, 0.5]
        XCTAssertEqual(cmfk_soft_dice_f32(p, [0, 2], 1, 2, 2, 1e-5, &loss, nil, nil, 1), -2)
        XCTAssertEqual(cmfk_soft_dice_f32(p, [0, 0, 0, 0], 1, 1, 4, 1e-5, &loss, nil, nil, 1), -2)
        // Large counts take the threaded path; the results agree to rounding.
        var rng = LCG(s: 17)
        let count = 100_000
        let a = rng.array(count), b = rng.array(count)
        var l1 = [0.0, 0.0], mse = [0.0, 0.0], sq = [0.0, 0.0]
        var g1 = [[Float]](repeating: [], count: 2), g2 = g1
        for (i, threads) in [Int32(1), 2].enumerated() {
            var g = [Float](repeating: .nan, count: count), h = g
            XCTAssertEqual(cmfk_l1_loss_f32(a, b, Int64(count), &l1[i], &g, threads), 0)
            XCTAssertEqual(cmfk_mse_const_loss_f32(a, Int64(count), 0.25, &mse[i], &h, threads), 0)
            XCTAssertEqual(cmfk_sum_squares_f32(a, Int64(count), &sq[i], threads), 0)
            g1[i] = g
            g2[i] = h
        }
        XCTAssertEqual(g1[0], g1[1])
        XCTAssertEqual(g2[0], g2[1])
        XCTAssertEqual(l1[0], l1[1], accuracy: 1e-12)
        XCTAssertEqual(mse[0], mse[1], accuracy: 1e-12)
        XCTAssertEqual(sq[0], sq[1], accuracy: 1e-12 * sq[0])
        XCTAssertEqual(sq[0], a.reduce(0.0) { $0 + Double($1) * Double($1) }, accuracy: 1e-12 * sq[0])
        let labels = (0..<count).map { UInt8($0 % 3) }
        let probs = a.map { 0.5 + 0.5 * $0 } + b.map { 0.5 + 0.5 * $0 } + a.map { 0.25 - 0.25 * $0 }
        var dice = [0.0, 0.0], per = [[0.0, 0.0], [0.0, 0.0]]
        var gd = [[Float]](repeating: [], count: 2)
        for (i, threads) in [Int32(1), 2].enumerated() {
            var g = [Float](repeating: .nan, count: 3 * count)
            XCTAssertEqual(cmfk_soft_dice_f32(probs, labels, 1, 3, Int64(count), 1e-5, &dice[i], &per[i], &g, threads), 0)
            gd[i] = g
        }
        XCTAssertEqual(dice[0], dice[1], accuracy: 1e-12)
        XCTAssertEqual(gd[0], gd[1])
        XCTAssertEqual(dice[0], 1 - (per[0][0] + per[0][1]) / 2, accuracy: 1e-15)
    }

    func testAdamRejectsStepZeroAndAddAccumulates() {
        var p: [Float] = [1], m: [Float] = [0], v: [Float] = [0]
        XCTAssertEqual(cmfk_adam_f32(&p, [1], &m, &v, 1, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 1), -2)
        var acc: [Float] = [1, 2, 3]
        XCTAssertEqual(cmfk_add_f32(&acc, [0.5, -2, 4], 3, 1), 0)
        XCTAssertEqual(acc, [1.5, 0, 7])
    }
}
