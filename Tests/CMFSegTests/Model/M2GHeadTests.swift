@testable import CMFSeg
import XCTest

/// The mask-guided head computed as `Σ_c M[c] · (W_c xx)` against its definition: the
/// 1×1×1 `conv_last` on the materialised `cat_c(xx · M[c])` (naive engine).
final class M2GHeadTests: XCTestCase {
    func testMaskedHeadMatchesConvolutionOfTheConcatenatedHead() throws {
        var rng = SeededRandom(seed: 7)
        for (classes, f, n, dims, withBias) in [(4, 16, 1, [8, 6, 10], true), (3, 5, 2, [130, 3, 70], false),
                                                (2, 1, 1, [1, 1, 1], true)] {
            var model = M2G(inChannels: 2, classes: classes, baseFilters: max(f, 1), maskGuided: true, slope: 0.01, rng: &rng)
            if !withBias { model.convLast.bias = nil }
            func random(_ shape: [Int]) -> Tensor {
                Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1) })
            }
            let xx = random([n, f] + dims), s0 = random([n, classes] + dims), s1 = random([n, classes] + dims)
            let ctx = ForwardContext(engine: NaiveConvolutionEngine(), threads: 2)
            let got = try model.headLogits(xx, s0, s1, ctx)
            let expected = try model.convLast.forward(model.head(xx, s0, s1, threads: 1), ctx)
            XCTAssertEqual(got.shape, expected.shape)
            XCTAssertLessThanOrEqual(try got.maxAbsDifference(expected), 1e-5, "classes \(classes) F \(f) n \(n) \(dims)")
        }
    }

    func testMaskedHeadRejectsMismatchedMasks() throws {
        var rng = SeededRandom(seed: 8)
        let model = M2G(inChannels: 2, classes: 4, baseFilters: 4, maskGuided: true, slope: 0.01, rng: &rng)
        let xx = Tensor(zeros: [1, 4, 2, 2, 2])
        XCTAssertThrowsError(try model.headLogits(xx, Tensor(zeros: [1, 3, 2, 2, 2]), Tensor(zeros: [1, 3, 2, 2, 2]),
                                                  ForwardContext(threads: 1)))
        XCTAssertThrowsError(try model.headLogits(xx, Tensor(zeros: [1, 4, 2, 2, 2]), Tensor(zeros: [1, 4, 2, 2, 3]),
                                                  ForwardContext(threads: 1)))
    }
}
