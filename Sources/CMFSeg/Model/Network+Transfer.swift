/// Loading some parameters of a network from weights made for another (parameter
/// transfer, warm starts): every tensor whose name and shape match is copied, the rest
/// stays as it was.
/// What `copyMatching` did.
public struct ParameterCopyReport: Sendable, Equatable {
    /// Parameters copied from the source.
    public var copied: [String] = []
    /// Parameters of this network that the source lacks or has with another shape (they
    /// keep their values).
    public var kept: [String] = []
    /// Source tensors no parameter took.
    public var unused: [String] = []

    /// "copied 38 tensors from X; left at their initial values: conv_last.weight, …; unused: …".
    public func summary(source: String) -> String {
        func list(_ n: [String]) -> String { n.prefix(6).joined(separator: ", ") + (n.count > 6 ? ", … (\(n.count))" : "") }
        return "copied \(copied.count) tensors from \(source)"
            + (kept.isEmpty ? "" : "; left at their initial values: \(list(kept))")
            + (unused.isEmpty ? "" : "; unused: \(list(unused))")
    }
}

extension ParameterContainer {
    /// Copies every source tensor whose name (after `rename`) and shape match a parameter.
    /// - Parameters:
    ///   - tensors: source tensors by name.
    ///   - rename: maps a source name to this network's name (nil: skip the tensor).
    public mutating func copyMatching(_ tensors: [String: Tensor],
                                      rename: (String) -> String? = { $0 }) -> ParameterCopyReport {
        var source: [String: (String, Tensor)] = [:]
        for (k, t) in tensors { if let n = rename(k) { source[n] = (k, t) } }
        var report = ParameterCopyReport()
        var taken = Set<String>()
        visitParameters(prefix: "") { name, p in
            if let (from, t) = source[name], t.shape == p.shape {
                p = t
                report.copied.append(name)
                taken.insert(from)
            } else {
                report.kept.append(name)
            }
        }
        report.unused = tensors.keys.filter { !taken.contains($0) }.sorted()
        return report
    }
}
