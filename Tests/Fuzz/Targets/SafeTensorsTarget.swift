import CMFSeg
import Foundation

/// The safetensors reader on bytes in memory: header length, header JSON, dtypes, shapes,
/// offsets, metadata, then the tensors converted to float.
enum SafeTensorsTarget: FuzzTarget {
    static let name = "safetensors"

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let file = expectingCMFErrors({ try SafeTensorsFile.decode(input, source: "input") }) else { return }
        for e in file.entries where e.tensor.count != e.tensor.shape.reduce(1, *) {
            finding("tensor \(e.name) has \(e.tensor.count) values for shape \(e.tensor.shape)")
        }
        // What is read must write back and read again to the same tensors.
        guard let bytes = expectingCMFErrors({ try file.encoded() }) else { return }
        guard let again = bytes.withUnsafeBytes({ b in expectingCMFErrors { try SafeTensorsFile.decode(b, source: "re-encoded") } }),
              again.entries.map(\.name) == file.entries.map(\.name), again.metadata == file.metadata else {
            finding("a file read does not survive writing and reading again")
        }
    }

    /// The small safetensors fixtures (the PyTorch ones are megabytes).
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])] {
        try ["dtypes.safetensors", "dtypes_expected.safetensors", "layers.safetensors"].map {
            ($0, Array(try Data(contentsOf: fixtures.appendingPathComponent("layers").appendingPathComponent($0))))
        }
    }
}
