@testable import CMFSeg
import XCTest

/// Comparing a training step with a PyTorch oracle (Tests/Fixtures/pytorch/train_*_step):
/// losses to 1e-5, gradients to a tolerance relative to their tensor's largest magnitude,
/// parameters after an Adam step to 1e-5. Two exceptions, both mathematics:
/// - the biases of convolutions followed by instance norm have a true gradient of 0 (PyTorch
///   stores rounding noise): ours must be below 1e-5 of the largest gradient, and their
///   post-step values are not compared;
/// - Adam's first steps are about lr · sign(g), so an element whose oracle gradient is within
///   the gradient tolerance of 0 may move by ±lr either way: those elements' post-step
///   values are not compared (`exempt`).
enum TrainingOracle {
    /// Biases of convolutions that an instance norm follows.
    static func isNormalisedBias(_ name: String) -> Bool {
        name.hasSuffix(".bias") && (name.contains("conv_norm_lrelu_") || name.contains("conv_nl_") || name.contains("conv_n_l_"))
    }

    static func maxAbs(_ t: Tensor) -> Float { t.storage.reduce(0) { max($0, abs($1)) } }

    /// Tensors of `file` whose names start with `prefix`, the prefix removed.
    static func tensors(_ file: SafeTensorsFile, prefix: String) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for e in file.entries where e.name.hasPrefix(prefix) { out[String(e.name.dropFirst(prefix.count))] = e.tensor }
        return out
    }

    static func checkLoss(_ ours: Double, _ theirs: Tensor?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let theirs else { return XCTFail("oracle has no \(what)", file: file, line: line) }
        XCTAssertEqual(ours, Double(theirs.storage[0]), accuracy: 1e-5, "\(what)", file: file, line: line)
    }

    /// Every expected gradient against ours; prints the worst relative error.
    static func checkGradients(_ grads: Gradients, expected: [String: Tensor], what: String, tolerance: Float = 1e-3,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(expected.isEmpty, "no expected gradients for \(what)", file: file, line: line)
        let largest = grads.tensors.values.map(maxAbs).max() ?? 0
        var worst: (Float, String) = (0, "")
        for (name, want) in expected {
            guard let got = grads[name] else { XCTFail("\(what): no gradient for \(name)", file: file, line: line); continue }
            if isNormalisedBias(name) {
                XCTAssertLessThan(maxAbs(got), 1e-5 * largest, "\(what): \(name) should be ~0", file: file, line: line)
                continue
            }
            let scale = max(maxAbs(want), 1e-12)
            let rel = try got.maxAbsDifference(want) / scale
            if rel > worst.0 { worst = (rel, name) }
            XCTAssertLessThanOrEqual(rel, tolerance, "\(what): gradient of \(name), relative error \(rel)", file: file, line: line)
        }
        print("\(what): \(expected.count) gradients, worst relative error \(worst.0) (\(worst.1))")
    }

    /// Elements whose gradient is within `tolerance` × the tensor's largest gradient of 0.
    static func nearZeroGradients(_ gradients: [String: Tensor], tolerance: Float) -> [String: Set<Int>] {
        gradients.mapValues { g in
            let limit = tolerance * maxAbs(g)
            return Set(g.storage.indices.filter { abs(g.storage[$0]) <= limit })
        }
    }

    /// Parameters after a step against the oracle's (1e-5); normalised biases and the
    /// `exempt` elements left out.
    static func checkParameters(_ params: [(String, Tensor)], expected: [String: Tensor], what: String,
                                exempt: [String: Set<Int>] = [:],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(expected.isEmpty, "no expected parameters for \(what)", file: file, line: line)
        var worst: (Float, String) = (0, "")
        let ours = Dictionary(uniqueKeysWithValues: params)
        var skipped = 0
        for (name, want) in expected where !isNormalisedBias(name) {
            guard let got = ours[name] else { XCTFail("\(what): no parameter \(name)", file: file, line: line); continue }
            XCTAssertEqual(got.shape, want.shape, name, file: file, line: line)
            let skip = exempt[name] ?? []
            skipped += skip.count
            var e: Float = 0
            for i in want.storage.indices where !skip.contains(i) { e = max(e, abs(got.storage[i] - want.storage[i])) }
            if e > worst.0 { worst = (e, name) }
            XCTAssertLessThanOrEqual(e, 1e-5, "\(what): \(name) after the step, max abs error \(e)", file: file, line: line)
        }
        print("\(what): parameters after the step, worst max abs error \(worst.0) (\(worst.1)); \(skipped) elements with a near-zero gradient left out")
    }
}
