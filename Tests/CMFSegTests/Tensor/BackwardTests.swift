@testable import CMFSeg
import XCTest

/// Every backward pass, loss gradient and the Adam update, checked independently of the
/// kernels: gradients against central finite differences of a double-precision reference
/// forward (test-only code below), Adam against the PyTorch formula evaluated in double.
/// The loss differentiated is L = Σ r·f(x) for a random upstream gradient r.
final class BackwardTests: XCTestCase {
    // MARK: - Helpers

    /// Deterministic uniform numbers.
    struct Rand {
        var s: UInt64
        mutating func next() -> Double {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(s >> 11) / Double(1 << 53)
        }
        mutating func uniform(_ lo: Double, _ hi: Double) -> Float { Float(lo + (hi - lo) * next()) }
        mutating func tensor(_ shape: [Int], _ lo: Double = -1, _ hi: Double = 1) -> Tensor {
            Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
        }
    }

    static func dot(_ r: Tensor, _ y: [Double]) -> Double {
        var acc = 0.0
        for i in 0..<y.count { acc += Double(r.storage[i]) * y[i] }
        return acc
    }

    /// Compares `analytic` (∂L/∂x from the kernels) with central differences of `f` (L in
    /// double) at the float point `x`, on `indices` (all by default). Passes when the largest
    /// difference is within `rtol` of the largest gradient magnitude (plus `atol`).
    func checkGradient(_ label: String, at point: some Collection<Float>, analytic values: some Collection<Float>, indices: [Int]? = nil, step: Double = 1e-5,
                       rtol: Double = 2e-5, atol: Double = 1e-9, file: StaticString = #filePath, line: UInt = #line,
                       _ f: ([Double]) -> Double) {
        let x = Array(point), analytic = Array(values)
        XCTAssertEqual(x.count, analytic.count, "\(label): gradient size", file: file, line: line)
        let base = x.map(Double.init)
        var worst = 0.0, worstIndex = -1, worstPair = (0.0, 0.0), scale = 0.0
        for i in indices ?? Array(0..<x.count) {
            var p = base, m = base
            p[i] += step
            m[i] -= step
            let fd = (f(p) - f(m)) / (2 * step)
            let a = Double(analytic[i])
            scale = max(scale, abs(fd), abs(a))
            if abs(a - fd) > worst || worstIndex < 0 { worst = abs(a - fd); worstIndex = i; worstPair = (a, fd) }
        }
        let tolerance = rtol * scale + atol
        print("\(label): largest |analytic - finite difference| \(worst) at \(worstIndex) (gradient scale \(scale))")
        XCTAssertLessThanOrEqual(worst, tolerance,
                                 "\(label): largest difference \(worst) at index \(worstIndex): analytic \(worstPair.0), finite difference \(worstPair.1) (scale \(scale))",
                                 file: file, line: line)
    }

    /// Up to `limit` indices spread over `0..<count`, plus `extra`.
    static func sample(_ count: Int, limit: Int = 60, extra: [Int] = []) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        let stride = Double(count) / Double(limit)
        return Array(Set((0..<limit).map { Int(Double($0) * stride + stride / 2) } + extra.filter { $0 < count })).sorted()
    }

    // MARK: - Reference forwards in double

    enum Ref {
        static func conv(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ b: [Double]?, stride: Int,
                         pad: Int) -> [Double] {
            let (n, ci, d, h, wd) = (xs[0], xs[1], xs[2], xs[3], xs[4])
            let (co, k0, k1, k2) = (ws[0], ws[2], ws[3], ws[4])
            let od = (d + 2 * pad - k0) / stride + 1, oh = (h + 2 * pad - k1) / stride + 1, ow = (wd + 2 * pad - k2) / stride + 1
            var out = [Double](repeating: 0, count: n * co * od * oh * ow)
            for s in 0..<n {
                for o in 0..<co {
                    for z in 0..<od {
                        for y in 0..<oh {
                            for xx in 0..<ow {
                                var acc = b?[o] ?? 0
                                for c in 0..<ci {
                                    for a in 0..<k0 {
                                        let iz = z * stride - pad + a
                                        if iz < 0 || iz >= d { continue }
                                        for bb in 0..<k1 {
                                            let iy = y * stride - pad + bb
                                            if iy < 0 || iy >= h { continue }
                                            let xrow = (((s * ci + c) * d + iz) * h + iy) * wd
                                            let wrow = (((o * ci + c) * k0 + a) * k1 + bb) * k2
                                            for e in 0..<k2 {
                                                let ix = xx * stride - pad + e
                                                if ix < 0 || ix >= wd { continue }
                                                acc += x[xrow + ix] * w[wrow + e]
                                            }
                                        }
                                    }
                                }
                                out[(((s * co + o) * od + z) * oh + y) * ow + xx] = acc
                            }
                        }
                    }
                }
            }
            return out
        }

        static func instanceNormLeakyReLU(_ x: [Double], planes: Int, plane: Int, eps: Double, slope: Double) -> [Double] {
            var out = x
            for p in 0..<planes {
                let r = (p * plane)..<((p + 1) * plane)
                let mean = x[r].reduce(0, +) / Double(plane)
                let variance = x[r].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(plane)
                let inv = 1 / (variance + eps).squareRoot()
                for i in r {
                    let v = (x[i] - mean) * inv
                    out[i] = v >= 0 ? v : v * slope
                }
            }
            return out
        }

        static func maxPool2(_ x: [Double], _ s: [Int]) -> [Double] {
            let (planes, d, h, w) = (s[0] * s[1], s[2], s[3], s[4])
            var out = [Double]()
            for p in 0..<planes {
                for z in 0..<(d / 2) {
                    for y in 0..<(h / 2) {
                        for xx in 0..<(w / 2) {
                            var m = -Double.infinity
                            for dz in 0..<2 { for dy in 0..<2 { for dx in 0..<2 {
                                m = max(m, x[((p * d + 2 * z + dz) * h + 2 * y + dy) * w + 2 * xx + dx])
                            } } }
                            out.append(m)
                        }
                    }
                }
            }
            return out
        }

        /// Trilinear ×2 with align_corners=True: output o samples input o*(n-1)/(2n-1).
        static func upsample2(_ x: [Double], _ s: [Int]) -> [Double] {
            let (planes, d, h, w) = (s[0] * s[1], s[2], s[3], s[4])
            func coord(_ o: Int, _ n: Int) -> (Int, Int, Double) {
                let src = n > 1 ? Double(o) * Double(n - 1) / Double(2 * n - 1) : 0
                let a = min(Int(src), n - 1)
                return (a, min(a + 1, n - 1), src - Double(a))
            }
            var out = [Double]()
            for p in 0..<planes {
                for z in 0..<(2 * d) {
                    let (z0, z1, lz) = coord(z, d)
                    for y in 0..<(2 * h) {
                        let (y0, y1, ly) = coord(y, h)
                        for xx in 0..<(2 * w) {
                            let (x0, x1, lx) = coord(xx, w)
                            func v(_ a: Int, _ b: Int, _ c: Int) -> Double { x[((p * d + a) * h + b) * w + c] }
                            let c0 = (1 - ly) * ((1 - lx) * v(z0, y0, x0) + lx * v(z0, y0, x1)) + ly * ((1 - lx) * v(z0, y1, x0) + lx * v(z0, y1, x1))
                            let c1 = (1 - ly) * ((1 - lx) * v(z1, y0, x0) + lx * v(z1, y0, x1)) + ly * ((1 - lx) * v(z1, y1, x0) + lx * v(z1, y1, x1))
                            out.append((1 - lz) * c0 + lz * c1)
                        }
                    }
                }
            }
            return out
        }

        static func softmax(_ x: [Double], n: Int, c: Int, plane: Int) -> [Double] {
            var out = x
            for s in 0..<n {
                for i in 0..<plane {
                    let idx = (0..<c).map { (s * c + $0) * plane + i }
                    let m = idx.map { x[$0] }.max()!
                    let e = idx.map { exp(x[$0] - m) }
                    let sum = e.reduce(0, +)
                    for (k, j) in idx.enumerated() { out[j] = e[k] / sum }
                }
            }
            return out
        }

        static func softDice(_ p: [Double], _ labels: [UInt8], n: Int, c: Int, plane: Int, eps: Double) -> (Double, [Double]) {
            var dice = [Double]()
            for k in 1..<c {
                var inter = 0.0, psq = 0.0, tsum = 0.0
                for s in 0..<n {
                    for i in 0..<plane {
                        let pv = p[(s * c + k) * plane + i], t = labels[s * plane + i] == k ? 1.0 : 0.0
                        inter += pv * t
                        psq += pv * pv
                        tsum += t * t
                    }
                }
                dice.append((2 * inter + eps) / (psq + tsum + eps))
            }
            return (1 - dice.reduce(0, +) / Double(c - 1), dice)
        }
    }

    // MARK: - Convolution

    static let geometries: [(k: Int, stride: Int, pad: Int, dims: [Int], label: String)] = [
        (3, 1, 1, [4, 3, 5], "k3 s1 p1"),
        (1, 1, 0, [3, 4, 2], "k1 s1 p0"),
        (4, 2, 1, [6, 4, 6], "k4 s2 p1 even"),
        (4, 2, 1, [5, 7, 5], "k4 s2 p1 odd"),
        (4, 2, 0, [7, 5, 6], "k4 s2 p0 odd (last rows unread)"),
    ]

    func testConvolutionGradientsByFiniteDifferences() throws {
        var rng = Rand(s: 21)
        for engine in [NaiveConvolutionEngine() as any ConvolutionEngine, OneDNNConvolutionEngine()] {
            for (index, g) in Self.geometries.enumerated() {
                let n = index % 2 + 1, ci = 2, co = 3
                let geometry = ConvolutionGeometry(stride: g.stride, padding: g.pad)
                let x = rng.tensor([n, ci] + g.dims)
                let w = rng.tensor([co, ci, g.k, g.k, g.k])
                let b = rng.tensor([co])
                let y = try engine.forward(x, weight: w, bias: b, geometry: geometry, threads: 2)
                let r = rng.tensor(y.shape)
                let gx = try engine.backwardData(r, weight: w, inputShape: x.shape, geometry: geometry, threads: 2)
                let (gw, gb) = try engine.backwardWeights(x, gradOutput: r, weightShape: w.shape, withBias: true,
                                                          geometry: geometry, threads: 2)
                XCTAssertEqual(gx.shape, x.shape)
                XCTAssertEqual(gw.shape, w.shape)
                let xd = x.storage.map(Double.init), wd = w.storage.map(Double.init), bd = b.storage.map(Double.init)
                let label = "\(engine.name) conv \(g.label) n\(n)"
                let plane = g.dims.reduce(1, *), hw = g.dims[1] * g.dims[2]
                let lastRow = Array((plane - hw)..<plane)  // the input's last z row of sample 0, channel 0
                checkGradient("\(label) ∂input", at: x.storage, analytic: gx.storage,
                              indices: Self.sample(x.count, extra: lastRow)) {
                    Self.dot(r, Ref.conv($0, x.shape, wd, w.shape, bd, stride: g.stride, pad: g.pad))
                }
                checkGradient("\(label) ∂weight", at: w.storage, analytic: gw.storage, indices: Self.sample(w.count)) {
                    Self.dot(r, Ref.conv(xd, x.shape, $0, w.shape, bd, stride: g.stride, pad: g.pad))
                }
                checkGradient("\(label) ∂bias", at: b.storage, analytic: try XCTUnwrap(gb).storage) {
                    Self.dot(r, Ref.conv(xd, x.shape, wd, w.shape, $0, stride: g.stride, pad: g.pad))
                }
                let noBias = try engine.backwardWeights(x, gradOutput: r, weightShape: w.shape, withBias: false,
                                                        geometry: geometry, threads: 1)
                XCTAssertNil(noBias.bias)
                XCTAssertLessThanOrEqual(try noBias.weight.maxAbsDifference(gw), 1e-5, label)
            }
        }
    }

    func testConvolutionBackwardShapeErrors() {
        let engine = OneDNNConvolutionEngine()
        let g = ConvolutionGeometry(stride: 1, padding: 1)
        let w = Tensor(zeros: [4, 2, 3, 3, 3])
        XCTAssertThrowsError(try engine.backwardData(Tensor(zeros: [1, 4, 5, 5, 5]), weight: w, inputShape: [1, 3, 5, 5, 5],
                                                     geometry: g, threads: 1))  // channel mismatch
        XCTAssertThrowsError(try engine.backwardData(Tensor(zeros: [1, 4, 5, 5, 4]), weight: w, inputShape: [1, 2, 5, 5, 5],
                                                     geometry: g, threads: 1))  // output size mismatch
        XCTAssertThrowsError(try engine.backwardWeights(Tensor(zeros: [1, 2, 5, 5, 5]), gradOutput: Tensor(zeros: [1, 4, 5, 5, 5]),
                                                        weightShape: [4, 2, 3, 3], withBias: true, geometry: g, threads: 1))
        XCTAssertThrowsError(try NaiveConvolutionEngine().backwardWeights(Tensor(zeros: [2, 2, 5, 5, 5]),
                                                                          gradOutput: Tensor(zeros: [1, 4, 5, 5, 5]),
                                                                          weightShape: w.shape, withBias: false, geometry: g,
                                                                          threads: 1))  // batch mismatch
    }

    // MARK: - Instance norm + leaky ReLU

    func testInstanceNormLeakyReLUGradientByFiniteDifferences() throws {
        var rng = Rand(s: 22)
        for slope: Float in [0.01, 0.2] {
            let x = rng.tensor([2, 3, 3, 4, 5], -2, 3)
            var y = x
            let invStd = try y.instanceNormLeakyReLUTraining(eps: 1e-5, slope: slope, threads: 2)
            let r = rng.tensor(y.shape)
            let gx = try y.instanceNormLeakyReLUBackward(gradOutput: r, invStd: invStd, slope: slope, threads: 2)
            checkGradient("instance norm + leaky ReLU slope \(slope)", at: x.storage, analytic: gx.storage, step: 1e-6) {
                Self.dot(r, Ref.instanceNormLeakyReLU($0, planes: 6, plane: 60, eps: 1e-5, slope: Double(slope)))
            }
        }
        let y = Tensor(zeros: [1, 2, 2, 2, 2])
        XCTAssertThrowsError(try y.instanceNormLeakyReLUBackward(gradOutput: y, invStd: [1], slope: 0.2, threads: 1))
        XCTAssertThrowsError(try y.instanceNormLeakyReLUBackward(gradOutput: y, invStd: [1, 1], slope: 0, threads: 1))
    }

    /// The whole CNL block (conv → norm → leaky ReLU) through the training forward and the
    /// three backward calls, both engines. The bias gradient is 0: the norm removes the mean.
    func testCNLBlockGradientByFiniteDifferences() throws {
        var rng = Rand(s: 23)
        for engine in [NaiveConvolutionEngine() as any ConvolutionEngine, OneDNNConvolutionEngine(),
                       OneDNNConvolutionEngine(fusesNormalization: false)] {
            for slope: Float in [0.01, 0.2] {
                let x = rng.tensor([1, 2, 4, 4, 3]), w = rng.tensor([3, 2, 3, 3, 3]), b = rng.tensor([3])
                let g = ConvolutionGeometry(stride: 1, padding: 1)
                let (y, invStd) = try engine.forwardTrainingInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                                  eps: 1e-5, slope: slope, threads: 2)
                let r = rng.tensor(y.shape)
                let gPre = try y.instanceNormLeakyReLUBackward(gradOutput: r, invStd: invStd, slope: slope, threads: 2)
                let gx = try engine.backwardData(gPre, weight: w, inputShape: x.shape, geometry: g, threads: 2)
                let (gw, gb) = try engine.backwardWeights(x, gradOutput: gPre, weightShape: w.shape, withBias: true,
                                                          geometry: g, threads: 2)
                let wd = w.storage.map(Double.init), bd = b.storage.map(Double.init), xd = x.storage.map(Double.init)
                func cnl(_ x: [Double], _ w: [Double]) -> Double {
                    Self.dot(r, Ref.instanceNormLeakyReLU(Ref.conv(x, [1, 2, 4, 4, 3], w, [3, 2, 3, 3, 3], bd, stride: 1, pad: 1),
                                                          planes: 3, plane: 48, eps: 1e-5, slope: Double(slope)))
                }
                let label = "\(engine.name) CNL slope \(slope)"
                checkGradient("\(label) ∂input", at: x.storage, analytic: gx.storage, step: 1e-6) { cnl($0, wd) }
                checkGradient("\(label) ∂weight", at: w.storage, analytic: gw.storage, indices: Self.sample(w.count),
                              step: 1e-6) { cnl(xd, $0) }
                let scale = gw.storage.reduce(0) { max($0, abs($1)) }
                let biasGrad = try XCTUnwrap(gb).storage.reduce(0) { max($0, abs($1)) }
                XCTAssertLessThanOrEqual(biasGrad, 1e-5 * scale, "\(label): bias gradient should be at noise level")
            }
        }
    }

    /// The training forward returns the inference output bit for bit, and 1/std as computed
    /// from the convolution output directly.
    func testTrainingForwardMatchesInferenceForward() throws {
        var rng = Rand(s: 24)
        for engine in [OneDNNConvolutionEngine() as any ConvolutionEngine, OneDNNConvolutionEngine(fusesNormalization: false),
                       NaiveConvolutionEngine()] {
            for (k, s, p, n, ci, co, dims) in [(3, 1, 1, 1, 2, 16, [16, 8, 12]), (3, 1, 1, 2, 5, 7, [6, 5, 4]),
                                               (4, 2, 1, 1, 16, 32, [8, 10, 12])] {
                let x = rng.tensor([n, ci] + dims, -2, 2), w = rng.tensor([co, ci, k, k, k], -0.5, 0.5), b = rng.tensor([co])
                let g = ConvolutionGeometry(stride: s, padding: p)
                for threads in [1, 2] {
                    let infer = try engine.forwardInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g, eps: 1e-5,
                                                                        slope: 0.01, threads: threads)
                    let (train, invStd) = try engine.forwardTrainingInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                                          eps: 1e-5, slope: 0.01, threads: threads)
                    XCTAssertEqual(train.shape, infer.shape)
                    XCTAssertTrue(train.storage == infer.storage, "\(engine.name) \(x.shape) threads \(threads): not bit-identical")
                    let conv = try NaiveConvolutionEngine().forward(x, weight: w, bias: b, geometry: g, threads: 2)
                    let plane = conv.shape[2...].reduce(1, *)
                    XCTAssertEqual(invStd.count, n * co)
                    var worst = 0.0
                    for q in 0..<(n * co) {
                        let v = conv.storage[(q * plane)..<((q + 1) * plane)].map(Double.init)
                        let mean = v.reduce(0, +) / Double(plane)
                        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(plane)
                        let expected = 1 / (variance + 1e-5).squareRoot()
                        worst = max(worst, abs(Double(invStd[q]) - expected) / expected)
                    }
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(engine.name) \(x.shape): 1/std largest relative difference \(worst)")
                }
            }
        }
    }

    // MARK: - Pooling, up-sampling, softmax, channel product

    func testMaxPoolGradientByFiniteDifferences() throws {
        var rng = Rand(s: 25)
        for shape in [[1, 2, 5, 4, 7], [2, 1, 4, 6, 4]] {
            let x = rng.tensor(shape)
            let y = try x.maxPool2(threads: 1)
            let r = rng.tensor(y.shape)
            for threads in [1, 2] {
                let gx = try x.maxPool2Backward(gradOutput: r, threads: threads)
                checkGradient("max-pool \(shape) threads \(threads)", at: x.storage, analytic: gx.storage, step: 1e-7) {
                    Self.dot(r, Ref.maxPool2($0, shape))
                }
            }
        }
        XCTAssertThrowsError(try Tensor(zeros: [1, 1, 4, 4, 4]).maxPool2Backward(gradOutput: Tensor(zeros: [1, 1, 2, 2, 1]), threads: 1))
    }

    func testUpsampleGradientByFiniteDifferences() throws {
        var rng = Rand(s: 26)
        for shape in [[1, 2, 3, 2, 4], [2, 1, 1, 3, 2]] {
            let x = rng.tensor(shape)
            let y = try x.upsample2(threads: 1)
            let r = rng.tensor(y.shape)
            for threads in [1, 2] {
                let gx = try r.upsample2Backward(threads: threads)
                XCTAssertEqual(gx.shape, shape)
                checkGradient("up-sampling \(shape) threads \(threads)", at: x.storage, analytic: gx.storage) {
                    Self.dot(r, Ref.upsample2($0, shape))
                }
            }
        }
        XCTAssertThrowsError(try Tensor(zeros: [1, 1, 4, 3, 4]).upsample2Backward(threads: 1))
    }

    func testSoftmaxGradientByFiniteDifferences() throws {
        var rng = Rand(s: 27)
        let x = rng.tensor([2, 4, 2, 3, 2], -3, 3)
        var s = x
        try s.softmaxChannels(threads: 1)
        let r = rng.tensor(s.shape)
        let gx = try s.softmaxChannelsBackward(gradOutput: r, threads: 2)
        checkGradient("softmax over channels", at: x.storage, analytic: gx.storage) {
            Self.dot(r, Ref.softmax($0, n: 2, c: 4, plane: 12))
        }
    }

    func testChannelMultiplyGradientByFiniteDifferences() throws {
        var rng = Rand(s: 28)
        let x = rng.tensor([2, 3, 2, 2, 3]), mask = rng.tensor([2, 4, 2, 2, 3])
        let channel = 2, plane = 12
        let r = rng.tensor(x.shape)
        let (gx, gm) = try x.multipliedByChannelBackward(channel, of: mask, gradOutput: r, threads: 2)
        XCTAssertEqual(gm.shape, [2, 1, 2, 2, 3])
        func product(_ x: [Double], _ m: [Double]) -> Double {
            var acc = 0.0
            for s in 0..<2 { for c in 0..<3 { for i in 0..<plane {
                let j = (s * 3 + c) * plane + i
                acc += Double(r.storage[j]) * x[j] * m[(s * 4 + channel) * plane + i]
            } } }
            return acc
        }
        let xd = x.storage.map(Double.init), md = mask.storage.map(Double.init)
        checkGradient("channel multiply ∂x", at: x.storage, analytic: gx.storage) { product($0, md) }
        // ∂mask: the full mask's gradient is gm at `channel`, 0 elsewhere.
        var full = [Float](repeating: 0, count: mask.count)
        for s in 0..<2 { for i in 0..<plane { full[(s * 4 + channel) * plane + i] = gm.storage[s * plane + i] } }
        checkGradient("channel multiply ∂mask", at: mask.storage, analytic: full) { product(xd, $0) }
        XCTAssertThrowsError(try x.multipliedByChannelBackward(4, of: mask, gradOutput: r, threads: 1))
    }

    // MARK: - Losses

    func testSoftDiceValueAndGradient() throws {
        var rng = Rand(s: 29)
        let (n, c, plane) = (2, 4, 12)
        let p = rng.tensor([n, c, 2, 3, 2], 0.05, 0.95)
        let labels = (0..<(n * plane)).map { _ in UInt8(rng.next() * 4) }
        let (value, perClass) = try Loss.softDice(probabilities: p, labels: labels, threads: 2)
        let (refLoss, refDice) = Ref.softDice(p.storage.map(Double.init), labels, n: n, c: c, plane: plane, eps: 1e-5)
        XCTAssertEqual(value.loss, refLoss, accuracy: 1e-12)
        for k in 0..<(c - 1) { XCTAssertEqual(perClass[k], refDice[k], accuracy: 1e-12) }
        XCTAssertTrue((0..<n).allSatisfy { s in value.gradient.storage[(s * c * plane)..<((s * c + 1) * plane)].allSatisfy { $0 == 0 } },
                      "background gradient must be 0")
        checkGradient("soft Dice", at: p.storage, analytic: value.gradient.storage) {
            Ref.softDice($0, labels, n: n, c: c, plane: plane, eps: 1e-5).0
        }
        // A perfect one-hot prediction scores loss 0; a class absent from both scores D = 1 via eps.
        var onehot = Tensor(zeros: [1, 3, 1, 1, 4])
        let l: [UInt8] = [0, 1, 1, 0]
        for i in 0..<4 { onehot.storage[Int(l[i]) * 4 + i] = 1 }
        XCTAssertEqual(try Loss.softDice(probabilities: onehot, labels: l, threads: 1).value.loss, 0, accuracy: 1e-12)
        XCTAssertThrowsError(try Loss.softDice(probabilities: onehot, labels: [0, 1, 3, 0], threads: 1))
        XCTAssertThrowsError(try Loss.softDice(probabilities: onehot, labels: [0, 1, 1], threads: 1))
    }

    func testL1AndMSEGradients() throws {
        var rng = Rand(s: 30)
        let a = rng.tensor([1, 2, 3, 3, 2])
        var b = rng.tensor([1, 2, 3, 3, 2])
        for i in 0..<b.count where abs(a.storage[i] - b.storage[i]) < 1e-3 { b.storage[i] += 0.01 }  // keep away from the kink
        let l1 = try Loss.l1(a, b, threads: 2)
        let bd = b.storage.map(Double.init)
        func l1Ref(_ x: [Double]) -> Double { zip(x, bd).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(x.count) }
        XCTAssertEqual(l1.loss, l1Ref(a.storage.map(Double.init)), accuracy: 1e-12)
        checkGradient("L1", at: a.storage, analytic: l1.gradient.storage) { l1Ref($0) }
        XCTAssertEqual(Array(try Loss.l1(a, a, threads: 1).gradient.storage), [Float](repeating: 0, count: a.count))  // sign(0) = 0
        for target: Float in [0, 1] {
            let mse = try Loss.mse(a, target: target, threads: 2)
            func mseRef(_ x: [Double]) -> Double { x.reduce(0) { $0 + ($1 - Double(target)) * ($1 - Double(target)) } / Double(x.count) }
            XCTAssertEqual(mse.loss, mseRef(a.storage.map(Double.init)), accuracy: 1e-12)
            checkGradient("MSE target \(target)", at: a.storage, analytic: mse.gradient.storage) { mseRef($0) }
        }
        XCTAssertThrowsError(try Loss.l1(a, Tensor(zeros: [1, 2, 3, 3, 1]), threads: 1))
        XCTAssertThrowsError(try Loss.mse(Tensor(zeros: [0]), target: 1, threads: 1))
    }

    // MARK: - Adam, accumulation, norms

    /// Two Adam steps against torch.optim.Adam's formula evaluated in double.
    func testAdamTwoStepsMatchTheFormula() throws {
        let options = AdamOptions(learningRate: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1)
        let p0: [Float] = [0.5, -0.3, 0, 1e-3, 2, -1.5]
        let grads: [[Float]] = [[0.1, -0.2, 0, 1e-9, 3, 0], [-0.05, -0.1, 1e-3, 0, 2.5, 4e-3]]
        // Expected, in double: PyTorch's single-tensor Adam.
        var ep = p0.map(Double.init), em = [Double](repeating: 0, count: 6), ev = em
        let (lr, b1, b2, eps, wd) = (1e-2, 0.9, 0.999, 1e-8, 0.1)
        for (t, g) in grads.enumerated() {
            let step = Double(t + 1)
            for i in 0..<6 {
                let gi = Double(g[i]) + wd * ep[i]
                em[i] = b1 * em[i] + (1 - b1) * gi
                ev[i] = b2 * ev[i] + (1 - b2) * gi * gi
                let bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step)
                ep[i] -= lr / bc1 * em[i] / (ev[i].squareRoot() / bc2.squareRoot() + eps)
            }
        }
        var p = Tensor(shape: [6], storage: p0), m = Tensor(zeros: [6]), v = Tensor(zeros: [6])
        for (t, g) in grads.enumerated() {
            try Adam.update(&p, gradient: Tensor(shape: [6], storage: g), m: &m, v: &v, step: t + 1, options: options, threads: 1)
        }
        for i in 0..<6 {
            XCTAssertEqual(Double(p.storage[i]), ep[i], accuracy: 1e-6, "param \(i)")
            XCTAssertEqual(Double(m.storage[i]), em[i], accuracy: 1e-6 * max(1, abs(em[i])), "m \(i)")
            XCTAssertEqual(Double(v.storage[i]), ev[i], accuracy: 1e-6 * max(1e-6, abs(ev[i])), "v \(i)")
        }
        XCTAssertThrowsError(try Adam.update(&p, gradient: Tensor(zeros: [6]), m: &m, v: &v, step: 0, options: options, threads: 1))
        XCTAssertThrowsError(try Adam.update(&p, gradient: Tensor(zeros: [5]), m: &m, v: &v, step: 3, options: options, threads: 1))
        XCTAssertThrowsError(try Adam.update(&p, gradient: Tensor(zeros: [6]), m: &m, v: &v, step: 3,
                                             options: AdamOptions(beta1: 1), threads: 1))
        XCTAssertEqual(AdamOptions(), AdamOptions(learningRate: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0))
    }

    func testAddAndSumOfSquares() throws {
        var a = Tensor(shape: [1, 1, 1, 1, 3], storage: [1, -2, 3])
        try a.add(Tensor(shape: [1, 1, 1, 1, 3], storage: [0.5, 0.5, -1]))
        XCTAssertEqual(a.storage, [1.5, -1.5, 2])
        XCTAssertEqual(try a.sumOfSquares(threads: 2), 2.25 + 2.25 + 4)
        XCTAssertThrowsError(try a.add(Tensor(zeros: [3])))
    }
}
