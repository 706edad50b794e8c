/// The method's parameter transfer from CMFT to CMFF: branch 0 (pair A) starts from G_AB,
/// branch 1 (pair B) from G_BA — every tensor whose name and shape match. The generators'
/// `conv_last` (2 outputs, not 4) and the fusion layers have no counterpart and stay at
/// their initial values.
public enum ParameterTransfer {
    /// What the transfer gives a CMFF model.
    public struct Result: Sendable {
        /// The transferred tensors under CMFF names (`net_0.…`, `net_1.…`): a partial weight
        /// set for `Trainer`'s `initWeights` (`cmfseg train cmff --init`).
        public var tensors: [String: Tensor]
        /// CMFF parameters copied, and those left to the CMFF run's own initialisation.
        public var copied: [String]
        public var leftInitial: [String]
    }

    /// - Parameters: gAB, gBA: the generators' weights (the authors' `x2y`, `y2x`).
    /// - Throws: `CMFError.format` when a file is not an `M3DUNet` generator or the two
    ///   widths differ.
    public static func cmffInitialisation(gAB: WeightSet, gBA: WeightSet, maskGuided: Bool = true) throws -> Result {
        func width(_ set: WeightSet) throws -> (f: Int, cin: Int) {
            guard let w = set.tensors["conv_norm_lrelu_11.0.weight"], w.shape.count == 5 else {
                throw CMFError.format("\(set.sourceDescription): not a U-Net generator (no conv_norm_lrelu_11.0.weight)")
            }
            return (w.shape[0], w.shape[1])
        }
        let a = try width(gAB), b = try width(gBA)
        guard a == b else {
            throw CMFError.format("the generators differ in width or inputs (\(gAB.sourceDescription): F \(a.f), \(a.cin) inputs; \(gBA.sourceDescription): F \(b.f), \(b.cin) inputs)")
        }
        var rng = SeededRandom(seed: 0)   // only the names and shapes of this model are used
        var model = M2G(inChannels: a.cin, classes: 4, baseFilters: a.f, maskGuided: maskGuided, slope: 0.01, rng: &rng)
        var result = Result(tensors: [:], copied: [], leftInitial: [])
        model.visitParameters(prefix: "") { name, p in
            let source: (WeightSet, String)? = name.hasPrefix("net_0.") ? (gAB, String(name.dropFirst(6)))
                : name.hasPrefix("net_1.") ? (gBA, String(name.dropFirst(6))) : nil
            if let (set, key) = source, let t = set.tensors[key], t.shape == p.shape {
                result.tensors[name] = t
                result.copied.append(name)
            } else {
                result.leftInitial.append(name)
            }
        }
        return result
    }
}
