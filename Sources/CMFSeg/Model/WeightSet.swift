/// Named tensors gathered from one or more safetensors files (a model may be split across
/// files, e.g. one per branch), with the merged metadata.
public struct WeightSet: Sendable {
    public var tensors: [String: Tensor]
    /// The dtype each tensor was stored in.
    public var dtypes: [String: SafeTensorsDType]
    public var metadata: [String: String]
    /// The file each tensor came from (for error messages).
    public var origin: [String: String]
    public var files: [String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
        self.dtypes = tensors.mapValues { _ in .f32 }
        self.origin = tensors.mapValues { _ in "(memory)" }
        self.files = []
    }

    /// Loads and merges files.
    /// - Throws: the reader's errors; `CMFError.format` for a tensor name present in two
    ///   files, a NaN or infinite weight, or a metadata key with different values in two files;
    ///   `.invalidArgument` for an empty list.
    public static func load(paths: [String]) throws -> WeightSet {
        guard !paths.isEmpty else { throw CMFError.invalidArgument("no weight files given") }
        var set = WeightSet(tensors: [:])
        for path in paths {
            let file = try SafeTensorsFile.read(path: path)
            for e in file.entries {
                // a NaN or an infinity would turn every prediction into NaN, i.e. garbage labels
                if let i = e.tensor.storage.firstIndex(where: { !$0.isFinite }) {
                    throw CMFError.format("\(path): tensor \"\(e.name)\" holds \(e.tensor.storage[i]) at element \(i); weights must be finite")
                }
                if let other = set.origin[e.name] {
                    throw CMFError.format("tensor \"\(e.name)\" is in both \(other) and \(path)")
                }
                set.tensors[e.name] = e.tensor
                set.dtypes[e.name] = e.dtype
                set.origin[e.name] = path
            }
            for (k, v) in file.metadata {
                if let old = set.metadata[k], old != v {
                    throw CMFError.format("metadata \"\(k)\" differs between weight files (\"\(old)\" vs \"\(v)\" in \(path))")
                }
                set.metadata[k] = v
            }
            set.files.append(path)
        }
        return set
    }

    /// A description of where the weights come from, for messages.
    var sourceDescription: String { files.isEmpty ? "weights" : files.joined(separator: ", ") }
}

/// Hands out the tensors of a `WeightSet` by name with shape checks, remembering which were
/// used so that leftovers (unknown tensors) are reported.
final class WeightReader {
    let set: WeightSet
    private(set) var used = Set<String>()

    init(_ set: WeightSet) { self.set = set }

    func has(_ name: String) -> Bool { set.tensors[name] != nil }

    /// The tensor `name`; `expected` entries that are nil match any size.
    /// - Throws: `CMFError.format` naming a missing tensor, `.shape` with expected vs got.
    func tensor(_ name: String, _ expected: [Int?]) throws -> Tensor {
        guard let t = set.tensors[name] else {
            throw CMFError.format("\(set.sourceDescription): missing tensor \"\(name)\"")
        }
        let ok = t.shape.count == expected.count && zip(t.shape, expected).allSatisfy { $1 == nil || $0 == $1 }
        guard ok else {
            let exp = "[" + expected.map { $0.map(String.init) ?? "*" }.joined(separator: ", ") + "]"
            throw CMFError.shape("\(set.origin[name] ?? set.sourceDescription): tensor \"\(name)\" has shape \(t.shape), expected \(exp)")
        }
        used.insert(name)
        return t
    }

    /// A convolution `prefix.weight` `[out, in, k, k, k]` + `prefix.bias` `[out]`.
    func conv(_ prefix: String, in cin: Int?, out cout: Int?, kernel: Int, geometry: ConvolutionGeometry) throws -> Conv3d {
        let w = try tensor(prefix + ".weight", [cout, cin, kernel, kernel, kernel])
        let b = try tensor(prefix + ".bias", [w.shape[0]])
        return Conv3d(weight: w, bias: b, geometry: geometry)
    }

    /// A `conv_norm_lrelu` block stored as `prefix.0.{weight,bias}` (a 3×3×3 conv).
    func cnl(_ prefix: String, in cin: Int?, out cout: Int?, slope: Float) throws -> CNL {
        CNL(conv: try conv(prefix + ".0", in: cin, out: cout, kernel: 3, geometry: ConvolutionGeometry(stride: 1, padding: 1)),
            activation: LeakyReLU(slope: slope))
    }

    /// - Throws: `CMFError.format` listing tensors no layer used (up to 8 names).
    func finish(_ what: String) throws {
        let unused = set.tensors.keys.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else {
            let shown = unused.prefix(8).joined(separator: ", ") + (unused.count > 8 ? ", … (\(unused.count) in all)" : "")
            throw CMFError.format("\(set.sourceDescription): tensors unknown to \(what): \(shown)")
        }
    }
}
