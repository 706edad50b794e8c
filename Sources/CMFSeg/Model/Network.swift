/// A network loaded from weights: the architecture (from metadata, or inferred from the
/// tensor names and shapes), the layers, the metadata, and notes on what was assumed.
public struct Network: Sendable {
    public enum Body: Sendable {
        case cmff(M2G)
        case unet(M3DUNet)
        case discriminator(Disc)
    }

    public var architecture: Architecture
    public var body: Body
    public var leakySlope: Float
    /// The files' metadata as read (empty for a raw PyTorch export).
    public var metadata: [String: String]
    /// What was inferred or assumed (e.g. "no metadata: architecture inferred from tensor
    /// names"); the CLI prints these.
    public var notes: [String]

    /// Loads weight files together (see `WeightSet.load`) and builds the network.
    public static func load(paths: [String]) throws -> Network {
        try load(WeightSet.load(paths: paths))
    }

    /// Builds the network from a weight set.
    /// - Throws: `CMFError.format` for an unknown architecture, a missing tensor or unknown
    ///   extra tensors; `.shape` for a mis-shaped tensor (expected vs got); `.format` when
    ///   metadata contradicts the tensors.
    public static func load(_ set: WeightSet) throws -> Network {
        var notes: [String] = []
        let meta = set.metadata
        let src = set.sourceDescription
        let arch: Architecture
        if let a = meta["architecture"] {
            guard let known = Architecture(rawValue: a) else {
                throw CMFError.format("\(src): unknown architecture \"\(a)\" (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            arch = known
        } else {
            arch = try infer(set)
            notes.append(meta.isEmpty ? "no metadata (raw export): architecture \(arch.rawValue) inferred from tensor names and shapes"
                                      : "metadata has no architecture: \(arch.rawValue) inferred from tensor names and shapes")
        }
        var slope = arch.defaultLeakySlope
        if let s = meta["leaky_slope"] {
            guard let v = Float(s), v.isFinite, v >= 0 else {
                throw CMFError.format("\(src): metadata leaky_slope \"\(s)\" is not a non-negative number")
            }
            slope = v
        } else {
            notes.append("leaky ReLU slope \(slope) (authors' default for \(arch.isSegmentation ? "segmentation networks" : "the GAN"))")
        }
        let r = WeightReader(set)
        let body: Body
        switch arch {
        case .cmffM2G, .cmffM2:
            let m = try M2G.load(r, slope: slope)
            if m.maskGuided != (arch == .cmffM2G) {
                throw CMFError.format("\(src): architecture \(arch.rawValue) but conv_last.weight has \(m.convLast.inChannels) input channels (\(m.maskGuided ? "mask-guided M2G" : "M2 without masks"))")
            }
            body = .cmff(m)
        case .unetSinglePair, .generator:
            body = .unet(try M3DUNet.load(r, prefix: "", inChannels: 2, outChannels: arch == .generator ? 2 : nil, slope: slope))
        case .unet4Mod:
            body = .unet(try M3DUNet.load(r, prefix: "", inChannels: 4, outChannels: nil, slope: slope))
        case .discriminator:
            body = .discriminator(try Disc.load(r, slope: slope))
        }
        try r.finish(arch.rawValue)
        let net = Network(architecture: arch, body: body, leakySlope: slope, metadata: meta, notes: notes)
        guard net.inChannels > 0, net.outChannels > 0, net.baseFilters > 0 else {
            throw CMFError.shape("\(src): a network of \(net.inChannels) input channels, \(net.outChannels) outputs and width \(net.baseFilters) computes nothing; every size must be at least 1")
        }
        try net.checkMetadata(src)
        return net
    }

    /// Architecture from tensor names: `net_0.*` + `conv_nl_*` → CMFF; bare
    /// `conv_norm_lrelu_*` → a U-Net (2→2 generator, 2→C single pair, 4→C 4-modality);
    /// `conv_1` + `conv_n_l_*` → discriminator.
    static func infer(_ set: WeightSet) throws -> Architecture {
        let t = set.tensors
        if t["net_0.conv_norm_lrelu_11.0.weight"] != nil || t["conv_nl_1.0.weight"] != nil {
            let f = t["net_0.conv_norm_lrelu_11.0.weight"]?.shape.first
            let lastIn = t["conv_last.weight"].flatMap { $0.shape.count > 1 ? $0.shape[1] : nil }
            return f != nil && lastIn == f ? .cmffM2 : .cmffM2G
        }
        if let w = t["conv_norm_lrelu_11.0.weight"], w.shape.count == 5 {
            let out = t["conv_last.weight"]?.shape.first
            if w.shape[1] == 4 { return .unet4Mod }
            if w.shape[1] == 2 { return out == 2 ? .generator : .unetSinglePair }
            throw CMFError.shape("\(set.sourceDescription): U-Net with \(w.shape[1]) input channels (conv_norm_lrelu_11.0.weight \(w.shape)); 2 or 4 expected")
        }
        if t["conv_1.weight"] != nil || t["conv_n_l_1.0.weight"] != nil { return .discriminator }
        throw CMFError.format("\(set.sourceDescription): cannot tell the architecture from the tensor names (expected net_0.* / conv_nl_* for CMFF, conv_norm_lrelu_* for a U-Net, conv_1 / conv_n_l_* for the discriminator) and no architecture metadata")
    }

    /// Input channels, classes and base width as the tensors say.
    public var inChannels: Int {
        switch body {
        case .cmff(let m): return m.net0.inChannels
        case .unet(let u): return u.inChannels
        case .discriminator(let d): return d.inChannels
        }
    }

    public var outChannels: Int {
        switch body {
        case .cmff(let m): return m.classCount
        case .unet(let u): return u.outChannels
        case .discriminator(let d): return d.conv2.outChannels
        }
    }

    public var baseFilters: Int {
        switch body {
        case .cmff(let m): return m.net0.baseFilters
        case .unet(let u): return u.baseFilters
        case .discriminator(let d): return d.conv1.outChannels
        }
    }

    /// Metadata that states sizes must agree with the tensors.
    func checkMetadata(_ src: String) throws {
        for (key, actual) in [("base_filters", baseFilters), ("in_channels", inChannels), ("num_classes", outChannels)] {
            guard let s = metadata[key] else { continue }
            guard let v = Int(s) else { throw CMFError.format("\(src): metadata \(key) \"\(s)\" is not an integer") }
            guard v == actual else {
                throw CMFError.format("\(src): metadata \(key) = \(v) but the tensors give \(actual)")
            }
        }
    }

    /// Floating-point work (2 FLOP per multiply-add) of one forward pass on `spatial`.
    public func flops(spatial: [Int]) -> Double {
        switch body {
        case .cmff(let m): return m.flops(spatial: spatial)
        case .unet(let u): return u.flops(spatial: spatial)
        case .discriminator: return 0
        }
    }

    /// Metadata for a file holding this network (what the library writes).
    public func describedMetadata() -> [String: String] {
        var m = metadata
        m["format"] = m["format"] ?? "cmfseg-weights-1"
        m["architecture"] = architecture.rawValue
        m["base_filters"] = String(baseFilters)
        m["in_channels"] = String(inChannels)
        m["num_classes"] = String(outChannels)
        m["leaky_slope"] = String(leakySlope)
        return m
    }
}
