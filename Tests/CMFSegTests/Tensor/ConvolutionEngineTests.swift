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

    /// oneDNN (linked against GNU libgomp) must run on our LLVM libomp pool in this process.
    func testOneDNNSharesOurOpenMPRuntime() {
        XCTAssertTrue(OneDNNConvolutionEngine.sharesOpenMPRuntime)
    }
}
