/// Saving a network with the PyTorch `state_dict` names and cmfseg's metadata, so training
/// can store what it trained and PyTorch users can load it back
/// (`safetensors.torch.load_file` + `load_state_dict`).
extension Network {
    /// The tensors under their PyTorch names.
    public func namedTensors() -> [(String, Tensor)] { namedParameters() }

    /// Writes one safetensors file (atomically) with `describedMetadata()` plus `extra`
    /// metadata (e.g. `class_values`, `pairs`, training provenance).
    /// - Parameter dtype: storage type (F32 default; F16/BF16 halve the file, lossy).
    /// - Throws: `CMFError.io` naming `path`.
    public func write(to path: String, extraMetadata extra: [String: String] = [:], dtype: SafeTensorsDType = .f32) throws {
        let meta = describedMetadata().merging(extra) { _, new in new }
        let entries = namedTensors().map { SafeTensorsFile.Entry(name: $0.0, dtype: dtype, tensor: $0.1) }
        try SafeTensorsFile(entries: entries, metadata: meta).write(to: path)
    }
}
