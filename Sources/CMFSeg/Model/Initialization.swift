/// Networks built from scratch with PyTorch's default initialisation, seeded: what training
/// starts from when no weights are given.
///
/// `Conv3d.reset_parameters`: weight ~ U(−b, b) with b = 1/√fan_in (Kaiming uniform with
/// a = √5), bias ~ U(−b, b) with the same bound; fan_in = in_channels · k³. The authors'
/// code keeps these defaults.
extension Conv3d {
    /// A convolution `[out, in, k, k, k]` with bias, initialised as PyTorch does.
    public static func random(in cin: Int, out cout: Int, kernel k: Int, geometry: ConvolutionGeometry,
                              rng: inout SeededRandom) -> Conv3d {
        let fanIn = cin * k * k * k
        let bound = 1 / Double(fanIn).squareRoot()
        let w = (0..<(cout * fanIn)).map { _ in Float(rng.uniform(-bound, bound)) }
        let b = (0..<cout).map { _ in Float(rng.uniform(-bound, bound)) }
        return Conv3d(weight: Tensor(shape: [cout, cin, k, k, k], storage: w), bias: Tensor(shape: [cout], storage: b),
                      geometry: geometry)
    }
}

extension CNL {
    /// A 3×3×3 (stride 1, padding 1) `conv_norm_lrelu` block, randomly initialised.
    static func random(in cin: Int, out cout: Int, slope: Float, rng: inout SeededRandom) -> CNL {
        CNL(conv: .random(in: cin, out: cout, kernel: 3, geometry: ConvolutionGeometry(stride: 1, padding: 1), rng: &rng),
            activation: LeakyReLU(slope: slope))
    }
}

extension M3DUNet {
    /// `M3DUNet(inChannels, outChannels, baseFilters)` with fresh parameters.
    public init(inChannels: Int, outChannels: Int, baseFilters f: Int, slope: Float, rng: inout SeededRandom) {
        var blocks: [CNL] = []
        for id in Self.blockIDs {
            let (i, o) = Self.channels(id, f: f, cin: inChannels)
            blocks.append(.random(in: i, out: o, slope: slope, rng: &rng))
        }
        let last = Conv3d.random(in: f, out: outChannels, kernel: 1, geometry: ConvolutionGeometry(), rng: &rng)
        self.init(blocks: blocks, convLast: last, baseFilters: f, leakySlope: slope)
    }
}

extension M2G {
    /// `M2G(inChannels, classes, baseFilters)` (or the `M2` ablation without mask guidance)
    /// with fresh parameters.
    public init(inChannels: Int, classes: Int, baseFilters f: Int, maskGuided: Bool, slope: Float,
                rng: inout SeededRandom) {
        let net0 = M3DUNet(inChannels: inChannels, outChannels: classes, baseFilters: f, slope: slope, rng: &rng)
        let net1 = M3DUNet(inChannels: inChannels, outChannels: classes, baseFilters: f, slope: slope, rng: &rng)
        let nl1 = CNL.random(in: 2 * f, out: f, slope: slope, rng: &rng)
        let nl2 = CNL.random(in: 2 * f, out: f, slope: slope, rng: &rng)
        let nlf = CNL.random(in: 2 * f, out: f, slope: slope, rng: &rng)
        let last = Conv3d.random(in: maskGuided ? classes * f : f, out: classes, kernel: 1,
                                 geometry: ConvolutionGeometry(), rng: &rng)
        self.init(net0: net0, net1: net1, convNL1: nl1, convNL2: nl2, convNLF: nlf, convLast: last, maskGuided: maskGuided)
    }
}

extension Disc {
    /// `Disc(inChannels, outChannels, baseFilters)` with fresh parameters: `conv_1`
    /// in→F, `conv_n_l_k` doubling the width, `conv_2` 8F→out (kernel 4).
    public init(inChannels: Int, outChannels: Int = 1, baseFilters f: Int, slope: Float, rng: inout SeededRandom) {
        let down = ConvolutionGeometry(stride: 2, padding: 1)
        let c1 = Conv3d.random(in: inChannels, out: f, kernel: 4, geometry: down, rng: &rng)
        var blocks: [CNL] = []
        var ch = f
        for _ in 1...3 {
            blocks.append(CNL(conv: .random(in: ch, out: 2 * ch, kernel: 4, geometry: down, rng: &rng),
                              activation: LeakyReLU(slope: slope)))
            ch *= 2
        }
        let c2 = Conv3d.random(in: ch, out: outChannels, kernel: 4, geometry: ConvolutionGeometry(stride: 1, padding: 1), rng: &rng)
        self.init(conv1: c1, blocks: blocks, conv2: c2, leakySlope: slope)
    }
}

extension Network {
    /// A network of `architecture` with fresh, seeded parameters.
    /// - Parameters:
    ///   - inChannels: per branch (2 for pairs, 4 for the 4-modality U-Net).
    ///   - classes: output classes (segmentation) or channels (generator 2, discriminator 1).
    /// - Throws: `CMFError.invalidArgument` for non-positive sizes.
    public static func random(_ architecture: Architecture, inChannels: Int, classes: Int, baseFilters: Int,
                              slope: Float? = nil, seed: UInt64, metadata: [String: String] = [:]) throws -> Network {
        guard inChannels > 0, classes > 0, baseFilters > 0 else {
            throw CMFError.invalidArgument("network sizes must be positive (in \(inChannels), classes \(classes), base filters \(baseFilters))")
        }
        var rng = SeededRandom(seed: seed)
        let s = slope ?? architecture.defaultLeakySlope
        let body: Body
        switch architecture {
        case .cmffM2G, .cmffM2:
            body = .cmff(M2G(inChannels: inChannels, classes: classes, baseFilters: baseFilters,
                             maskGuided: architecture == .cmffM2G, slope: s, rng: &rng))
        case .unetSinglePair, .unet4Mod, .generator:
            body = .unet(M3DUNet(inChannels: inChannels, outChannels: classes, baseFilters: baseFilters, slope: s, rng: &rng))
        case .discriminator:
            body = .discriminator(Disc(inChannels: inChannels, outChannels: classes, baseFilters: baseFilters, slope: s, rng: &rng))
        }
        return Network(architecture: architecture, body: body, leakySlope: s, metadata: metadata, notes: [])
    }
}
