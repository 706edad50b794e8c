import CMFSeg
import CMFSegABI
import Foundation

/// Weights → network → segmentation model, through `cmf_model_load` (file read, weight
/// set, architecture inference, shape checks, metadata) and the model's queries, and
/// `cmfseg info`'s summary of the same file.
enum NetworkTarget: FuzzTarget {
    static let name = "network"

    static func run(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write("model.safetensors", input)
        var model: OpaquePointer?
        let status = path.withCString { p in withUnsafePointer(to: Optional(p)) { cmf_model_load($0, 1, &model) } }
        if status == CMF_ERR_INTERNAL { finding(String(cString: cmf_last_error_message())) }
        if status == CMF_OK {
            guard cmf_model_architecture(model) != nil, cmf_model_class_count(model) > 0 else {
                finding("a loaded model without architecture or classes")
            }
            for i in 0..<cmf_model_metadata_count(model) {
                guard let key = cmf_model_metadata_key(model, i), cmf_model_metadata(model, key) != nil else {
                    finding("metadata key \(i) without a value")
                }
            }
            cmf_model_free(model)
        }
        _ = expectingCMFErrors { try SafeTensorsSummary.of(path).text }
    }

    /// A tiny network of every architecture (width 1, float16), with the metadata training
    /// writes; plus the small layer fixture.
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])] {
        let nets: [(Architecture, Int, Int)] = [(.cmffM2G, 2, 4), (.cmffM2, 2, 4), (.unetSinglePair, 2, 4),
                                                (.unet4Mod, 4, 4), (.generator, 2, 2), (.discriminator, 2, 1)]
        var seeds: [(name: String, bytes: [UInt8])] = try nets.map { arch, cin, classes in
            let net = try Network.random(arch, inChannels: cin, classes: classes, baseFilters: 1, seed: 1)
            let meta = net.describedMetadata()
            let entries = net.namedTensors().map { SafeTensorsFile.Entry(name: $0.0, dtype: .f16, tensor: $0.1) }
            return ("\(arch.rawValue).safetensors", try SafeTensorsFile(entries: entries, metadata: meta).encoded())
        }
        let layers = fixtures.appendingPathComponent("layers/dtypes.safetensors")
        seeds.append(("dtypes.safetensors", Array(try Data(contentsOf: layers))))
        return seeds
    }
}
