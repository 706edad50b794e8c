/// CMFT, the method's first stage: a CycleGAN between the modality pairs (the authors'
/// `gan.py`). Generators G_AB (pair A → pair B) and G_BA are `M3DUNet(2, 2, F)` with a
/// linear output; discriminator D_B judges pair-B images (real B vs G_AB(A)), D_A judges
/// pair-A images. In the authors' names: `x2y` = G_AB, `y2x` = G_BA, `dx` = D_B, `dy` = D_A.
///
/// One iteration: the four translations A→B, B→A, A→B→A, B→A→B; generator loss = LSGAN
/// adversarial terms MSE(D_A(G_BA(B)), 1) + MSE(D_B(G_AB(A)), 1) + λ·(L1(A→B→A, A) +
/// L1(B→A→B, B)) with λ = 10; a generator Adam step; then each discriminator on a real image
/// against a fake from its pool of past fakes, 0.5·(MSE(D(real), 1) + MSE(D(fake), 0)); a
/// discriminator Adam step.
public struct CycleGAN: Sendable {
    public var gAB: M3DUNet
    public var gBA: M3DUNet
    /// Judges pair-A images (the authors' `dy`).
    public var dA: Disc
    /// Judges pair-B images (the authors' `dx`).
    public var dB: Disc
    public var cycleWeight: Float = 10

    public init(gAB: M3DUNet, gBA: M3DUNet, dA: Disc, dB: Disc) {
        self.gAB = gAB
        self.gBA = gBA
        self.dA = dA
        self.dB = dB
    }

    /// Fresh networks of width `baseFilters` (leaky slope 0.2, the GAN's), from one seed.
    public init(channels: Int = 2, baseFilters f: Int, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let slope = Architecture.generator.defaultLeakySlope
        self.init(gAB: M3DUNet(inChannels: channels, outChannels: channels, baseFilters: f, slope: slope, rng: &rng),
                  gBA: M3DUNet(inChannels: channels, outChannels: channels, baseFilters: f, slope: slope, rng: &rng),
                  dA: Disc(inChannels: channels, baseFilters: f, slope: slope, rng: &rng),
                  dB: Disc(inChannels: channels, baseFilters: f, slope: slope, rng: &rng))
    }

    /// The losses of one iteration (the authors' names in comments).
    public struct Losses: Sendable, Equatable {
        public var adversarialA = 0.0   // adv_x: MSE(D_A(G_BA(B)), 1)
        public var adversarialB = 0.0   // adv_y: MSE(D_B(G_AB(A)), 1)
        public var cycleA = 0.0         // cyc_x: λ·L1(A→B→A, A)
        public var cycleB = 0.0         // cyc_y: λ·L1(B→A→B, B)
        public var generator: Double { adversarialA + adversarialB + cycleA + cycleB }
        public var discriminatorA = 0.0 // loss_dy
        public var discriminatorB = 0.0 // loss_dx
    }

    /// The four translations of the generator step.
    public struct Translations: Sendable {
        public var aToB: Tensor, bToA: Tensor, aToBToA: Tensor, bToAToB: Tensor
    }

    /// The generator step's forward and backward: losses, the translations, and the
    /// generators' gradients (discriminator weights get none).
    public func generatorGradients(a: Tensor, b: Tensor, _ ctx: ForwardContext) throws
        -> (losses: Losses, translations: Translations, gAB: Gradients, gBA: Gradients) {
        let t = ctx.threads
        let (ab, tAB) = try gAB.forwardTraining(a, ctx)
        let (ba, tBA) = try gBA.forwardTraining(b, ctx)
        let (aba, tABA) = try gBA.forwardTraining(ab, ctx)
        let (bab, tBAB) = try gAB.forwardTraining(ba, ctx)
        var losses = Losses()
        var gradAB = Gradients(), gradBA = Gradients()
        var discGrads = Gradients(recordsWeights: false)

        // Cycle terms: back through the second generator of each cycle to the first's output.
        let cA = try Loss.l1(aba, a, threads: t), cB = try Loss.l1(bab, b, threads: t)
        losses.cycleA = Double(cycleWeight) * cA.loss
        losses.cycleB = Double(cycleWeight) * cB.loss
        var dAB = try gBA.backward(tABA, gradLogits: cA.gradient.scaled(by: cycleWeight), grads: &gradBA,
                                   needInputGradient: true, ctx)!
        var dBA = try gAB.backward(tBAB, gradLogits: cB.gradient.scaled(by: cycleWeight), grads: &gradAB,
                                   needInputGradient: true, ctx)!
        // Adversarial terms: through the discriminator to the fake image.
        let (scoreB, tapeB) = try dB.forwardTraining(ab, ctx)
        let advB = try Loss.mse(scoreB, target: 1, threads: t)
        losses.adversarialB = advB.loss
        try dAB.add(dB.backward(tapeB, gradOutput: advB.gradient, grads: &discGrads, needInputGradient: true, ctx)!)
        let (scoreA, tapeA) = try dA.forwardTraining(ba, ctx)
        let advA = try Loss.mse(scoreA, target: 1, threads: t)
        losses.adversarialA = advA.loss
        try dBA.add(dA.backward(tapeA, gradOutput: advA.gradient, grads: &discGrads, needInputGradient: true, ctx)!)
        // The first translations.
        _ = try gAB.backward(tAB, gradLogits: dAB, grads: &gradAB, needInputGradient: false, ctx)
        _ = try gBA.backward(tBA, gradLogits: dBA, grads: &gradBA, needInputGradient: false, ctx)
        return (losses, Translations(aToB: ab, bToA: ba, aToBToA: aba, bToAToB: bab), gradAB, gradBA)
    }

    /// One discriminator's loss 0.5·(MSE(D(real), 1) + MSE(D(fake), 0)) and its gradients.
    public static func discriminatorGradients(_ d: Disc, real: Tensor, fake: Tensor, _ ctx: ForwardContext) throws
        -> (loss: Double, grads: Gradients) {
        let t = ctx.threads
        var grads = Gradients()
        let (sr, tr) = try d.forwardTraining(real, ctx)
        let lr = try Loss.mse(sr, target: 1, threads: t)
        _ = try d.backward(tr, gradOutput: lr.gradient.scaled(by: 0.5), grads: &grads, needInputGradient: false, ctx)
        let (sf, tf) = try d.forwardTraining(fake, ctx)
        let lf = try Loss.mse(sf, target: 0, threads: t)
        _ = try d.backward(tf, gradOutput: lf.gradient.scaled(by: 0.5), grads: &grads, needInputGradient: false, ctx)
        return (0.5 * (lr.loss + lf.loss), grads)
    }
}

/// The CycleGAN's history of generated images (Shrivastava et al.; the authors' pool of
/// 10): while it holds fewer than `capacity` it stores and returns the new fake; then, with
/// probability ½, it returns a stored fake and keeps the new one in its place, else it
/// returns the new fake.
public struct FakeImagePool: Sendable {
    public let capacity: Int
    public private(set) var images: [Tensor] = []

    public init(capacity: Int = 10, images: [Tensor] = []) {
        self.capacity = capacity
        self.images = images
    }

    public mutating func query(_ fake: Tensor, rng: inout SeededRandom) -> Tensor {
        guard capacity > 0 else { return fake }
        if images.count < capacity {
            images.append(fake)
            return fake
        }
        if rng.chance(0.5) {
            let k = Int(rng.next() % UInt64(capacity))
            let old = images[k]
            images[k] = fake
            return old
        }
        return fake
    }
}
