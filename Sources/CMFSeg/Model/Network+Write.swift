/// Saving a network with the PyTorch `state_dict` names and cmfseg's metadata, so the
/// training issue can store what it trained and PyTorch users can load it back
/// (`safetensors.torch.load_file` + `load_state_dict`).
extension Network {
    /// The tensors under their PyTorch names.
    public func namedTensors() -> [(String, Tensor)] {
        func conv(_ name: String, _ c: Conv3d) -> [(String, Tensor)] {
            [(name + ".weight", c.weight)] + (c.bias.map { [(name + ".bias", $0)] } ?? [])
        }
        func unet(_ prefix: String, _ u: M3DUNet) -> [(String, Tensor)] {
            M3DUNet.blockIDs.flatMap { conv("\(prefix)conv_norm_lrelu_\($0).0", u.blocks[$0]!.conv) }
                + conv(prefix + "conv_last", u.convLast)
        }
        switch body {
        case .cmff(let m):
            return unet("net_0.", m.net0) + unet("net_1.", m.net1)
                + conv("conv_nl_1.0", m.convNL1.conv) + conv("conv_nl_2.0", m.convNL2.conv)
                + conv("conv_nl_f.0", m.convNLF.conv) + conv("conv_last", m.convLast)
        case .unet(let u):
            return unet("", u)
        case .discriminator(let d):
            return conv("conv_1", d.conv1) + d.blocks.enumerated().flatMap { conv("conv_n_l_\($0.offset + 1).0", $0.element.conv) }
                + conv("conv_2", d.conv2)
        }
    }

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
