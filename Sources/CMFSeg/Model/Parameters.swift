/// Trainable parameters visited by their PyTorch `state_dict` names — the names checkpoints,
/// gradients and optimiser state are keyed by, so weights trained here load in PyTorch and
/// back, and parameter transfer matches tensors by name.
public protocol ParameterContainer {
    /// Visits every parameter once, in a fixed order, with its full name (`prefix` + the
    /// container's own names); the body may change a tensor in place (keeping its shape).
    mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows
}

extension ParameterContainer {
    /// The parameters under their names, in visiting order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        var copy = self
        var out: [(String, Tensor)] = []
        copy.visitParameters(prefix: prefix) { name, t in out.append((name, t)) }
        return out
    }

    /// Number of trainable values.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }
}

extension Conv3d: ParameterContainer {
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        try body(prefix + "weight", &weight)
        if bias != nil { try body(prefix + "bias", &bias!) }
    }
}

extension CNL: ParameterContainer {
    /// PyTorch keeps the block's convolution as module `0` of a `Sequential`.
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        try conv.visitParameters(prefix: prefix + "0.", body)
    }
}

extension M3DUNet: ParameterContainer {
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        for (i, id) in Self.blockIDs.enumerated() {
            try blocks[i].visitParameters(prefix: prefix + "conv_norm_lrelu_\(id).", body)
        }
        try convLast.visitParameters(prefix: prefix + "conv_last.", body)
    }
}

extension M2G: ParameterContainer {
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        try net0.visitParameters(prefix: prefix + "net_0.", body)
        try net1.visitParameters(prefix: prefix + "net_1.", body)
        try convNL1.visitParameters(prefix: prefix + "conv_nl_1.", body)
        try convNL2.visitParameters(prefix: prefix + "conv_nl_2.", body)
        try convNLF.visitParameters(prefix: prefix + "conv_nl_f.", body)
        try convLast.visitParameters(prefix: prefix + "conv_last.", body)
    }
}

extension Disc: ParameterContainer {
    public mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows {
        try conv1.visitParameters(prefix: prefix + "conv_1.", body)
        for k in blocks.indices {
            try blocks[k].visitParameters(prefix: prefix + "conv_n_l_\(k + 1).", body)
        }
        try conv2.visitParameters(prefix: prefix + "conv_2.", body)
    }
}

extension Network: ParameterContainer {
    public mutating func visitParameters(prefix: String, _ visit: (String, inout Tensor) throws -> Void) rethrows {
        switch body {
        case .cmff(var m): try m.visitParameters(prefix: prefix, visit); body = .cmff(m)
        case .unet(var u): try u.visitParameters(prefix: prefix, visit); body = .unet(u)
        case .discriminator(var d): try d.visitParameters(prefix: prefix, visit); body = .discriminator(d)
        }
    }
}

/// Gradients of a loss, keyed by parameter name (the names of `ParameterContainer`).
/// Accumulates: a parameter used twice (the CycleGAN's generators run twice per iteration)
/// collects the sum. With `recordsWeights` false, layers skip their weight gradients (the
/// CycleGAN generator step needs ∂L/∂input through a discriminator, not its weights).
public struct Gradients: Sendable {
    public private(set) var tensors: [String: Tensor] = [:]
    public var recordsWeights: Bool

    public init(recordsWeights: Bool = true) { self.recordsWeights = recordsWeights }

    public subscript(name: String) -> Tensor? { tensors[name] }

    /// Adds `g` to the gradient of `name`.
    public mutating func accumulate(_ name: String, _ g: Tensor) throws {
        if tensors[name] == nil { tensors[name] = g } else { try tensors[name]!.add(g) }
    }

    /// Multiplies every gradient by `factor` (a loss weight applied after backward).
    public mutating func scale(by factor: Float) {
        for k in Array(tensors.keys) { tensors[k] = tensors[k]!.scaled(by: factor) }
    }

    /// The gradients' global L2 norm (what `torch.nn.utils.clip_grad_norm_` measures).
    public func norm(threads: Int) throws -> Double {
        var s = 0.0
        for t in tensors.values { s += try t.sumOfSquares(threads: threads) }
        return s.squareRoot()
    }
}
