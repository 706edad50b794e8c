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
            let expected = try model.convLast.forward(Self.materialisedHead(xx, s0, s1), ctx)
            XCTAssertEqual(got.shape, expected.shape)
            XCTAssertLessThanOrEqual(try got.maxAbsDifference(expected), 1e-5, "classes \(classes) F \(f) n \(n) \(dims)")
        }
    }

    /// The oracle: `cat_c(xx · M[c])` with `M = s₀ + s₁`, built channel by channel.
    static func materialisedHead(_ xx: Tensor, _ s0: Tensor, _ s1: Tensor) throws -> Tensor {
        let m = try s0.adding(s1)
        return try Tensor.concatChannels((0..<m.shape[1]).map { try xx.multipliedByChannel($0, of: m, threads: 1) })
    }

    /// The fused backward against the materialised head's: `conv_last`'s backward on the
    /// 4F-channel head, then each mask product's backward.
    func testMaskedHeadBackwardMatchesTheMaterialisedHead() throws {
        var rng = SeededRandom(seed: 9)
        for (classes, f, n, dims, withBias) in [(4, 16, 1, [8, 6, 10], true), (3, 5, 2, [130, 3, 70], false),
                                                (2, 1, 1, [1, 1, 1], true), (4, 16, 1, [40, 40, 20], true)] {
            var model = M2G(inChannels: 2, classes: classes, baseFilters: max(f, 1), maskGuided: true, slope: 0.01, rng: &rng)
            if !withBias { model.convLast.bias = nil }
            func random(_ shape: [Int]) -> Tensor {
                Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
            }
            let xx = random([n, f] + dims), s0 = random([n, classes] + dims), s1 = random([n, classes] + dims)
            let gLogits = random([n, classes] + dims)
            let ctx = ForwardContext(engine: NaiveConvolutionEngine(), threads: 2)
            var got = Gradients()
            let fused = try model.headLogitsBackward(xx, s0, s1, gradLogits: gLogits, grads: &got, ctx)

            var expected = Gradients()
            let head = try Self.materialisedHead(xx, s0, s1)
            let gHead = try XCTUnwrap(model.convLast.backward(input: head, gradOutput: gLogits, name: "conv_last",
                                                              grads: &expected, needInputGradient: true, ctx))
            let m = try s0.adding(s1)
            var gx = Tensor(zeros: xx.shape)
            var gm: [Tensor] = []
            for c in 0..<classes {
                let g = try xx.multipliedByChannelBackward(c, of: m, gradOutput: try gHead.channels((c * f)..<((c + 1) * f)), threads: 1)
                try gx.add(g.x)
                gm.append(g.maskChannel)
            }
            let label = "classes \(classes) F \(f) n \(n) \(dims)"
            XCTAssertLessThanOrEqual(try fused.features.maxAbsDifference(gx), 1e-5, label)
            XCTAssertLessThanOrEqual(try fused.mask.maxAbsDifference(Tensor.concatChannels(gm)), 1e-5, label)
            let gw = try XCTUnwrap(got["conv_last.weight"]), ew = try XCTUnwrap(expected["conv_last.weight"])
            XCTAssertLessThanOrEqual(try gw.maxAbsDifference(ew), 1e-5 * Float(n * dims.reduce(1, *)).squareRoot(), label)
            XCTAssertEqual(got["conv_last.bias"] == nil, !withBias)
            if withBias {
                XCTAssertLessThanOrEqual(try XCTUnwrap(got["conv_last.bias"]).maxAbsDifference(XCTUnwrap(expected["conv_last.bias"])),
                                         1e-5 * Float(n * dims.reduce(1, *)).squareRoot(), label)
            }
            // Without weight gradients recorded, only the input gradients are computed.
            var none = Gradients(recordsWeights: false)
            let inputsOnly = try model.headLogitsBackward(xx, s0, s1, gradLogits: gLogits, grads: &none, ctx)
            XCTAssertTrue(none.tensors.isEmpty)
            XCTAssertEqual(Array(inputsOnly.features.storage), Array(fused.features.storage))
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
