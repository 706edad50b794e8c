/// Knowledge distillation from the CMFT generators into CMFF's branches (the paper's stated
/// future work). Parameter transfer needs branches shaped exactly like the generators;
/// distillation does not: during CMFF training, branch b's features at a few points of its
/// U-Net pass through a 1×1×1 adapter to the width of generator b's features at the same
/// points, and are pulled towards them:
/// `L_distill = λ · mean over branches b and points p of MSE(adapter_bp(student_bp), teacher_bp)`
/// with generator b run on the branch's own input (G_AB on pair A, G_BA on pair B). The
/// generators stay fixed; the adapters train with the network (one Adam) and are not part
/// of the model written — they serve training only.
public struct FeatureDistillation: Sendable {
    /// The matched blocks (indices into `M3DUNet.blockIDs`): the bottleneck (52) and the half-
    /// and full-resolution feature maps the CMFF fusion reads (24, 14).
    public static let points = [9, M3DUNet.x2Index, M3DUNet.x1Index]

    /// G_AB (teacher of branch 0) and G_BA (branch 1).
    public var teachers: [M3DUNet]
    /// `adapters[b][k]`: student channels → teacher channels at `points[k]` of branch b.
    public var adapters: [[Conv3d]]
    /// λ, the weight of the distillation loss beside the segmentation loss.
    public var weight: Double

    /// - Throws: `CMFError.invalidArgument` unless there are two teachers reading the
    ///   student's branch inputs, and λ is finite and non-negative.
    public init(teachers: [M3DUNet], student: M2G, weight: Double, seed: UInt64) throws {
        guard teachers.count == 2 else {
            throw CMFError.invalidArgument("distillation needs two generators, G_AB and G_BA (got \(teachers.count))")
        }
        for (b, (teacher, branch)) in zip(teachers, [student.net0, student.net1]).enumerated()
        where teacher.inChannels != branch.inChannels {
            throw CMFError.invalidArgument("distillation: generator \(b == 0 ? "G_AB" : "G_BA") reads \(teacher.inChannels) channels, CMFF branch \(b) \(branch.inChannels)")
        }
        guard weight.isFinite, weight >= 0 else {
            throw CMFError.invalidArgument("distillation weight \(weight) must be finite and >= 0")
        }
        var rng = SeededRandom(seed: SeededRandom.derivedSeed(seed, index: 0x0d15_7111))
        adapters = zip(teachers, [student.net0, student.net1]).map { teacher, branch in
            Self.points.map { i in
                Conv3d.random(in: branch.blocks[i].conv.outChannels, out: teacher.blocks[i].conv.outChannels, kernel: 1,
                              geometry: ConvolutionGeometry(), rng: &rng)
            }
        }
        self.teachers = teachers
        self.weight = weight
    }

    /// The parameter name of an adapter (`distill.net_0.adapter_52`).
    static func adapterName(branch b: Int, point k: Int) -> String {
        "distill.net_\(b).adapter_\(M3DUNet.blockIDs[points[k]])"
    }

    /// The distillation loss of one step, the adapters' gradients (added to `grads`) and
    /// ∂L_distill/∂(student block output) per branch, for ``M2G/backward``.
    /// - Parameters: inputs: the two branches' inputs; studentTapes: their training forwards.
    public func lossAndGradients(inputs: [Tensor], studentTapes: [M3DUNet.Tape], grads: inout Gradients,
                                 _ ctx: ForwardContext) throws -> (loss: Double, featureGradients: [[(block: Int, gradient: Tensor)]]) {
        let scale = weight / Double(teachers.count * Self.points.count)
        var loss = 0.0
        var featureGradients: [[(block: Int, gradient: Tensor)]] = []
        for b in teachers.indices {
            let (_, teacher) = try teachers[b].forwardTraining(inputs[b], ctx)
            var perBlock: [(block: Int, gradient: Tensor)] = []
            for (k, i) in Self.points.enumerated() {
                let student = studentTapes[b].blocks[i].output
                let mapped = try adapters[b][k].forward(student, ctx)
                let mse = try Loss.mse(mapped, teacher.blocks[i].output, threads: ctx.threads)
                loss += scale * mse.loss
                let g = try adapters[b][k].backward(input: student, gradOutput: mse.gradient.scaled(by: Float(scale)),
                                                    name: Self.adapterName(branch: b, point: k), grads: &grads,
                                                    needInputGradient: true, ctx)
                perBlock.append((i, g!))
            }
            featureGradients.append(perBlock)
        }
        return (loss, featureGradients)
    }
}

extension FeatureDistillation: ParameterContainer {
    /// The adapters (`distill.net_<b>.adapter_<block>.weight/bias`); the teachers are fixed.
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        for b in adapters.indices {
            for k in adapters[b].indices {
                try adapters[b][k].visitParameters(prefix: prefix + Self.adapterName(branch: b, point: k) + ".", body)
            }
        }
    }
}
