@testable import CMFSeg
import XCTest

/// Feature distillation: its gradients (adapters and, through the branches' backward, every
/// student parameter) against central finite differences of the loss; the combined step.
final class FeatureDistillationTests: XCTestCase {
    let ctx = ForwardContext(threads: 2)

    /// A CMFF student of width 2 taught by generators of width 4 (so the adapters change widths),
    /// on 32³ inputs (2³ at the bottleneck: instance norm over a single voxel has no gradient
    /// worth checking).
    func setUp(weight: Double) throws -> (student: M2G, distillation: FeatureDistillation, inputs: [Tensor]) {
        guard case .cmff(let student) = try Network.random(.cmffM2G, inChannels: 2, classes: 4, baseFilters: 2, seed: 5).body else {
            throw CMFError.internal("not CMFF")
        }
        var rng = SeededRandom(seed: 9)
        let teachers = (0..<2).map { _ in M3DUNet(inChannels: 2, outChannels: 2, baseFilters: 4, slope: 0.2, rng: &rng) }
        let distillation = try FeatureDistillation(teachers: teachers, student: student, weight: weight, seed: 1)
        let inputs = (0..<2).map { _ in
            Tensor(shape: [1, 2, 32, 32, 32], storage: (0..<(2 * 32768)).map { _ in Float(rng.normal()) })
        }
        return (student, distillation, inputs)
    }

    func loss(_ student: M2G, _ d: FeatureDistillation, _ inputs: [Tensor]) throws -> Double {
        let tapes = [try student.net0.forwardTraining(inputs[0], ctx).tape, try student.net1.forwardTraining(inputs[1], ctx).tape]
        var unused = Gradients()
        return try d.lossAndGradients(inputs: inputs, studentTapes: tapes, grads: &unused, ctx).loss
    }

    func testGradientsMatchFiniteDifferences() throws {
        let (student, d, inputs) = try setUp(weight: 2.5)
        XCTAssertEqual(d.adapters[0].map(\.weight.shape), [[32, 16, 1, 1, 1], [4, 2, 1, 1, 1], [4, 2, 1, 1, 1]])

        // analytic: the adapters' gradients, then each branch's backward from the feature gradients alone
        let tapes = [try student.net0.forwardTraining(inputs[0], ctx), try student.net1.forwardTraining(inputs[1], ctx)]
        var grads = Gradients()
        let r = try d.lossAndGradients(inputs: inputs, studentTapes: tapes.map(\.tape), grads: &grads, ctx)
        for (b, net) in [student.net0, student.net1].enumerated() {
            _ = try net.backward(tapes[b].tape, gradLogits: Tensor(zeros: tapes[b].logits.shape), featureGradients: r.featureGradients[b],
                                 prefix: "net_\(b).", grads: &grads, needInputGradient: false, ctx)
        }
        XCTAssertGreaterThan(r.loss, 0)

        // numeric, the adapters: single entries (the loss is smooth in them)
        let h: Float = 3e-3
        for (name, index) in [("distill.net_0.adapter_52.weight", 7), ("distill.net_1.adapter_14.bias", 1),
                              ("distill.net_0.adapter_24.weight", 3)] {
            let numeric = (try loss(student, d, inputs, moving: [name: h], index: index)
                           - loss(student, d, inputs, moving: [name: -h], index: index)) / Double(2 * h)
            let analytic = Double(try XCTUnwrap(grads[name], name).storage[index])
            XCTAssertEqual(analytic, numeric, accuracy: 0.01 * max(abs(numeric), 1e-3), "\(name)[\(index)]")
        }
        // numeric, the student: along its whole gradient (single deep weights cross leaky-ReLU
        // kinks under any useful step; the directional derivative along g is |g|)
        let studentGrads = grads.tensors.filter { $0.key.hasPrefix("net_") }
        let norm = studentGrads.values.reduce(0.0) { $0 + $1.storage.reduce(0.0) { $0 + Double($1 * $1) } }.squareRoot()
        XCTAssertGreaterThan(studentGrads.count, 30)
        func along(_ step: Float) throws -> Double {
            var s = student
            s.visitParameters(prefix: "") { name, t in
                guard let g = studentGrads[name] else { return }
                for i in t.storage.indices { t.storage[i] += step * g.storage[i] / Float(norm) }
            }
            return try loss(s, d, inputs)
        }
        // (strongly curved: steps of 1e-2 / 3e-3 / 1e-3 / 3e-4 give 0.83 / 0.95 / 0.99 / 1.000 of |g|)
        let step: Float = 3e-4
        let directional = (try along(step) - along(-step)) / Double(2 * step)
        XCTAssertEqual(directional, norm, accuracy: 0.01 * norm)
    }

    /// The loss with parameter entries moved: `moving[name]` added to entry `index`.
    func loss(_ student: M2G, _ d: FeatureDistillation, _ inputs: [Tensor], moving: [String: Float], index: Int) throws -> Double {
        var dd = d
        dd.visitParameters(prefix: "") { name, t in
            if let delta = moving[name] { t.storage[index] += delta }
        }
        return try loss(student, dd, inputs)
    }

    func testWeightScalesTheLossAndZeroTurnsItOff() throws {
        let (student, d1, inputs) = try setUp(weight: 1)
        var d3 = d1
        d3.weight = 3
        XCTAssertEqual(try loss(student, d3, inputs), try 3 * loss(student, d1, inputs), accuracy: 1e-9)
        d3.weight = 0
        XCTAssertEqual(try loss(student, d3, inputs), 0)
        XCTAssertThrowsError(try FeatureDistillation(teachers: [d1.teachers[0]], student: student, weight: 1, seed: 0))
        XCTAssertThrowsError(try FeatureDistillation(teachers: d1.teachers, student: student, weight: .nan, seed: 0))
    }
}
