/// The CMFT CycleGAN as a ``Learner``: per step one generator update and one discriminator
/// update (the authors' `gan.py`), Adam for each network (lr from the run, no weight decay
/// as the authors), pools of 10 past fakes. The batch holds both pairs: channels 0–1 pair A,
/// 2–3 pair B. Models are written under the authors' names: `x2y` (G_AB), `y2x` (G_BA),
/// `dx` (D_B, judges pair B) and `dy` (D_A), one file each, loadable by PyTorch.
public struct CycleGANLearner: Learner {
    public var gan: CycleGAN
    /// In the order gAB, gBA, dA, dB.
    var optimizers: [AdamOptimizer]
    var poolA = FakeImagePool(), poolB = FakeImagePool()
    let seed: UInt64

    static let names = ["x2y", "y2x", "dy", "dx"]

    public init(gan: CycleGAN, adam: AdamOptions, seed: UInt64) {
        self.gan = gan
        var a = adam
        a.weightDecay = 0
        optimizers = Array(repeating: AdamOptimizer(options: a), count: 4)
        self.seed = seed
    }

    public var logColumns: [String] { ["loss", "adv_a", "adv_b", "cyc_a", "cyc_b", "loss_da", "loss_db"] }
    public var lossColumn: String { "loss" }
    public var parameterCount: Int {
        gan.gAB.parameterCount + gan.gBA.parameterCount + gan.dA.parameterCount + gan.dB.parameterCount
    }

    public mutating func train(on batch: TrainingBatch, step: Int, _ ctx: ForwardContext) throws -> [String: Double] {
        let (_, c, _, _, _) = try batch.input.dims5("CMFT batch")
        let half = gan.gAB.inChannels
        guard c == 2 * half else { throw CMFError.shape("CMFT batch has \(c) channels, the generators take \(half) per pair") }
        let a = try batch.input.channels(0..<half), b = try batch.input.channels(half..<c)
        let g = try gan.generatorGradients(a: a, b: b, ctx)
        try optimizers[0].update(&gan.gAB, gradients: g.gAB, threads: ctx.threads)
        try optimizers[1].update(&gan.gBA, gradients: g.gBA, threads: ctx.threads)
        // The pools' choices: a stream of their own, a function of (seed, step) like the batches.
        var rng = SeededRandom(seed: SeededRandom.derivedSeed(seed ^ 0x9E37_79B9_7F4A_7C15, index: step))
        let fakeB = poolB.query(g.translations.aToB, rng: &rng), fakeA = poolA.query(g.translations.bToA, rng: &rng)
        let da = try CycleGAN.discriminatorGradients(gan.dA, real: a, fake: fakeA, ctx)
        let db = try CycleGAN.discriminatorGradients(gan.dB, real: b, fake: fakeB, ctx)
        try optimizers[2].update(&gan.dA, gradients: da.grads, threads: ctx.threads)
        try optimizers[3].update(&gan.dB, gradients: db.grads, threads: ctx.threads)
        let l = g.losses
        return ["loss": l.generator, "adv_a": l.adversarialA, "adv_b": l.adversarialB, "cyc_a": l.cycleA,
                "cyc_b": l.cycleB, "loss_da": da.loss, "loss_db": db.loss]
    }

    public func checkpointTensors() -> [(String, Tensor)] {
        var out = gan.gAB.namedParameters(prefix: "param.x2y.") + gan.gBA.namedParameters(prefix: "param.y2x.")
            + gan.dA.namedParameters(prefix: "param.dy.") + gan.dB.namedParameters(prefix: "param.dx.")
        for (k, o) in optimizers.enumerated() { out += o.stateTensors().map { ("\(Self.names[k]).\($0.0)", $0.1) } }
        out += poolA.images.enumerated().map { ("pool.a.\($0.offset)", $0.element) }
        out += poolB.images.enumerated().map { ("pool.b.\($0.offset)", $0.element) }
        return out
    }

    public mutating func restore(_ tensors: [String: Tensor], step: Int) throws {
        try restoreParameters(&gan.gAB, tensors, prefix: "param.x2y.")
        try restoreParameters(&gan.gBA, tensors, prefix: "param.y2x.")
        try restoreParameters(&gan.dA, tensors, prefix: "param.dy.")
        try restoreParameters(&gan.dB, tensors, prefix: "param.dx.")
        for k in optimizers.indices {
            let p = Self.names[k] + "."
            var state: [String: Tensor] = [:]
            for (name, t) in tensors where name.hasPrefix(p) { state[String(name.dropFirst(p.count))] = t }
            try optimizers[k].restore(step: step, tensors: state)
        }
        func pool(_ key: String) -> [Tensor] {
            var images: [Tensor] = []
            while let t = tensors["pool.\(key).\(images.count)"] { images.append(t) }
            return images
        }
        poolA = FakeImagePool(images: pool("a"))
        poolB = FakeImagePool(images: pool("b"))
    }

    /// `--init` for CMFT: generator files named by the authors' file names are not needed;
    /// tensors are matched under the prefixes `x2y.`, `y2x.`, `dx.`, `dy.`.
    public mutating func initialise(from weights: WeightSet) throws -> String {
        var copied = 0
        copied += gan.gAB.copyMatching(weights.tensors) { $0.hasPrefix("x2y.") ? String($0.dropFirst(4)) : nil }.copied.count
        copied += gan.gBA.copyMatching(weights.tensors) { $0.hasPrefix("y2x.") ? String($0.dropFirst(4)) : nil }.copied.count
        copied += gan.dA.copyMatching(weights.tensors) { $0.hasPrefix("dy.") ? String($0.dropFirst(3)) : nil }.copied.count
        copied += gan.dB.copyMatching(weights.tensors) { $0.hasPrefix("dx.") ? String($0.dropFirst(3)) : nil }.copied.count
        guard copied > 0 else {
            throw CMFError.invalidArgument("no tensor of \(weights.sourceDescription) fits the CycleGAN (expected names x2y.*, y2x.*, dx.*, dy.*)")
        }
        return "copied \(copied) tensors from \(weights.sourceDescription)"
    }

    public func writeModels(to folder: String, metadata: [String: String]) throws -> [String] {
        var paths: [String] = []
        let slope = gan.gAB.leakySlope
        let nets: [(String, Network.Body, Architecture, String)] = [
            ("x2y", .unet(gan.gAB), .generator, "t1,t1ce -> t2,flair"), ("y2x", .unet(gan.gBA), .generator, "t2,flair -> t1,t1ce"),
            ("dx", .discriminator(gan.dB), .discriminator, "judges t2,flair"), ("dy", .discriminator(gan.dA), .discriminator, "judges t1,t1ce"),
        ]
        for (name, body, arch, role) in nets {
            var meta = metadata
            meta["role"] = role
            meta["pairs"] = role.contains("->") ? role.replacing(" -> ", with: "|") : (name == "dx" ? "t2,flair" : "t1,t1ce")
            let net = Network(architecture: arch, body: body, leakySlope: slope, metadata: meta, notes: [])
            let path = "\(folder)/\(name).safetensors"
            try net.write(to: path)
            paths.append(path)
        }
        return paths
    }
}
