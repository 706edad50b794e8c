@testable import CMFSeg
import XCTest

/// The fast engine (oneDNN) against the naive oracle on random shapes, kernels and strides.
final class ConvolutionEngineTests: XCTestCase {
    func testOneDNNMatchesNaiveOnRandomShapes() throws {
        var rng = SystemRandomNumberGenerator()
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
        }
        let cases: [(k: Int, s: Int, p: Int)] = [(3, 1, 1), (4, 2, 1), (1, 1, 0), (3, 2, 0), (2, 1, 1)]
        var worst: Float = 0
        for trial in 0..<12 {
            let c = cases[trial % cases.count]
            let n = Int.random(in: 1...2), ci = Int.random(in: 1...20), co = Int.random(in: 1...19)
            let dims = (0..<3).map { _ in Int.random(in: max(c.k - 2 * c.p, 1)...11) }
            let x = random([n, ci] + dims)
            let w = random([co, ci, c.k, c.k, c.k])
            let b: Tensor? = trial % 3 == 0 ? nil : random([co])
            let g = ConvolutionGeometry(stride: c.s, padding: c.p)
            let fast = try OneDNNConvolutionEngine().forward(x, weight: w, bias: b, geometry: g, threads: 2)
            let ref = try NaiveConvolutionEngine().forward(x, weight: w, bias: b, geometry: g, threads: 2)
            let e = try fast.maxAbsDifference(ref)
            worst = max(worst, e)
            XCTAssertLessThanOrEqual(e, 1e-4 * Float(ci * c.k * c.k * c.k).squareRoot(), "x \(x.shape) w \(w.shape) \(g)")
        }
        print("oneDNN vs naive: worst max abs error \(worst)")
    }

    /// The fused conv + instance norm + leaky ReLU against naive conv then the norm kernel
    /// (inputs of 16k channels and 16m voxels take the channels-last transposer, the others oneDNN's reorder).
    func testFusedCNLMatchesUnfusedNaive() throws {
        var worst: Float = 0
        for (k, st, p, n, ci, co, dims) in [(3, 1, 1, 1, 2, 16, [16, 8, 12]), (3, 1, 1, 2, 5, 7, [6, 5, 4]),
                                            (4, 2, 1, 1, 16, 32, [8, 10, 12]), (1, 1, 0, 1, 3, 4, [3, 4, 5]),
                                            (3, 1, 1, 2, 32, 16, [4, 4, 6])] {
            let x = Tensor(shape: [n, ci] + dims, storage: (0..<(n * ci * dims.reduce(1, *))).map { _ in Float.random(in: -2...2) })
            let w = Tensor(shape: [co, ci, k, k, k], storage: (0..<(co * ci * k * k * k)).map { _ in Float.random(in: -0.5...0.5) })
            let b = Tensor(shape: [co], storage: (0..<co).map { _ in Float.random(in: -1...1) })
            let g = ConvolutionGeometry(stride: st, padding: p)
            for threads in [1, 2] {
                let fused = try OneDNNConvolutionEngine().forwardInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                                       eps: 1e-5, slope: 0.2, threads: threads)
                let ref = try NaiveConvolutionEngine().forwardInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                                    eps: 1e-5, slope: 0.2, threads: threads)
                let e = try fused.maxAbsDifference(ref)
                worst = max(worst, e)
                XCTAssertLessThanOrEqual(e, 1e-4, "x \(x.shape) w \(w.shape)")
            }
        }
        print("fused CNL vs naive: worst max abs error \(worst)")
    }

    /// The fused statistics are one pass of shifted sums; a mean far from zero (a large bias)
    /// must not cost the variance its precision (oracle: naive convolution, two-pass norm).
    func testFusedCNLKeepsPrecisionWithLargeMeans() throws {
        let (ci, co, dims) = (4, 16, [12, 10, 14])
        let x = Tensor(shape: [1, ci] + dims, storage: (0..<(ci * dims.reduce(1, *))).map { _ in Float.random(in: -1...1) })
        let w = Tensor(shape: [co, ci, 3, 3, 3], storage: (0..<(co * ci * 27)).map { _ in Float.random(in: -0.3...0.3) })
        let b = Tensor(shape: [co], storage: (0..<co).map { k in Float(k % 2 == 0 ? 300 : -300) + Float(k) })
        let g = ConvolutionGeometry(stride: 1, padding: 1)
        let fused = try OneDNNConvolutionEngine().forwardInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                               eps: 1e-5, slope: 0.01, threads: 2)
        let ref = try NaiveConvolutionEngine().forwardInstanceNormLeakyReLU(x, weight: w, bias: b, geometry: g,
                                                                            eps: 1e-5, slope: 0.01, threads: 2)
        XCTAssertLessThanOrEqual(try fused.maxAbsDifference(ref), 1e-3)
    }

    /// oneDNN (linked against GNU libgomp) must run on our LLVM libomp pool in this process.
    func testOneDNNSharesOurOpenMPRuntime() {
        XCTAssertTrue(OneDNNConvolutionEngine.sharesOpenMPRuntime)
    }
}
