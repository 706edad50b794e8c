import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg convert`: rewrites a model's weight file — another storage type, added metadata —
/// e.g. to ship a trained model at half the size with its provenance.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite a model's weights: storage type (f32, f16, bf16) and metadata.",
        discussion: """
        Loads the weight files as `segment` does (so only a complete, valid network is \
        written), then writes one safetensors file atomically with the network's metadata plus \
        every --meta KEY=VALUE. Prints the file size and the largest change the storage type \
        made to any weight. Computation stays float32 whatever the storage.
        """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Weight files (safetensors), loaded together.")
    var weights: [String]
    @Option(name: .long, help: "Output weight file (.safetensors).") var out: String
    @Option(name: .long, help: "Storage type of the tensors: f32, f16 or bf16.") var dtype: String = "f32"
    @Option(name: .long, help: "Metadata to add or replace, KEY=VALUE (repeatable).") var meta: [String] = []

    func run() throws {
        guard let storage = SafeTensorsDType(rawValue: dtype.uppercased()), [.f32, .f16, .bf16].contains(storage) else {
            throw CMFError.invalidArgument("--dtype \(dtype) must be f32, f16 or bf16")
        }
        guard out.hasSuffix(".safetensors") else {
            throw CMFError.invalidArgument("--out \(out): the file name must end in .safetensors")
        }
        var extra: [String: String] = [:]
        for item in meta {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CMFError.invalidArgument("--meta \(item) must be KEY=VALUE")
            }
            extra[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        let network = try Network.load(paths: weights)
        try network.write(to: out, extraMetadata: extra, dtype: storage)
        let written = try Network.load(paths: [out])
        var largest: Float = 0
        for ((name, a), (_, b)) in zip(network.namedTensors(), written.namedTensors()) {
            guard a.count == b.count else { throw CMFError.internal("convert: \(name) changed size when written") }
            for (x, y) in zip(a.storage, b.storage) { largest = max(largest, abs(x - y)) }
        }
        let bytes = try FileBytes.regularFileSize(out)
        let parameters = network.namedTensors().reduce(0) { $0 + $1.1.count }
        print("\(out): \(parameters) parameters as \(storage.rawValue), \(bytes) bytes; largest change of a weight \(largest)")
    }
}
