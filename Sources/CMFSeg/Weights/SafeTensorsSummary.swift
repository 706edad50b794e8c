import FoundationEssentials

/// What a safetensors file holds, for `cmfseg info`: tensors (name, dtype, shape), metadata,
/// and, when the tensors form a network cmfseg knows, its architecture and what was inferred.
public struct SafeTensorsSummary: Codable, Sendable {
    public struct TensorInfo: Codable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var elements: Int
    }

    public var file: String
    public var tensors: [TensorInfo]
    public var metadata: [String: String]
    public var parameters: Int
    /// The network the tensors form on their own, or nil.
    public var architecture: String?
    /// Why the file is not a complete network by itself (e.g. one part of a split model),
    /// or the notes of the inference.
    public var notes: [String]

    /// Reads and validates `path` (see `SafeTensorsFile.read`).
    public static func of(_ path: String) throws -> SafeTensorsSummary {
        let f = try SafeTensorsFile.read(path: path)
        let infos = f.entries.sorted { $0.name < $1.name }.map {
            TensorInfo(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.tensor.shape, elements: $0.tensor.count)
        }
        var arch: String?
        var notes: [String] = []
        var set = WeightSet(tensors: Dictionary(uniqueKeysWithValues: f.entries.map { ($0.name, $0.tensor) }), metadata: f.metadata)
        set.files = [path]
        do {
            let net = try Network.load(set)
            arch = net.architecture.rawValue
            notes = net.notes + ["base width \(net.baseFilters), \(net.inChannels) input channels, \(net.outChannels) outputs"]
        } catch let e as CMFError {
            notes = ["not a complete network on its own: \(e.message)"]
        }
        return SafeTensorsSummary(file: path, tensors: infos, metadata: f.metadata,
                                  parameters: infos.reduce(0) { $0 + $1.elements }, architecture: arch, notes: notes)
    }

    public var text: String {
        var lines = ["file        \(file)",
                     "format      safetensors, \(tensors.count) tensors, \(parameters) values"]
        if let architecture { lines.append("network     \(architecture)") }
        for n in notes { lines.append("note        \(n)") }
        if metadata.isEmpty {
            lines.append("metadata    (none)")
        } else {
            lines.append("metadata")
            for k in metadata.keys.sorted() { lines.append("  \(k) = \(metadata[k]!)") }
        }
        lines.append("tensors")
        let width = tensors.map(\.name.count).max() ?? 0
        for t in tensors {
            lines.append("  " + t.name.padded(toWidth: width)
                         + "  \(t.dtype.padded(toWidth: 4))  [\(t.shape.map(String.init).joined(separator: ", "))]")
        }
        return lines.joined(separator: "\n")
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}
