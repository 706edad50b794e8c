/// CMFT's generators applied to a whole case: one modality pair in, the other pair
/// synthesised, on the input's grid. The input is pre-processed as for segmentation (brain
/// box, z-score), the generator runs once on the whole box (padded to multiples of 16), and
/// the result is pasted back: values are in the z-score units the networks see, 0 outside
/// the brain mask.
public enum PairTranslator {
    /// Which pair a generator reads and which it writes: its `pairs` metadata
    /// (`t1,t1ce|t2,flair` = input | output, as `cmfseg train cmft` writes), else `from`
    /// (pair A or B; the other is the output).
    /// - Throws: `CMFError.invalidArgument` when neither says, `.format` for bad metadata.
    public static func direction(_ generator: Network, from: Int?) throws -> (input: [Modality], output: [Modality]) {
        let a = Modality.pairA, b = Modality.pairB
        guard generator.architecture == .generator else {
            throw CMFError.invalidArgument("a \(generator.architecture.rawValue) network does not translate (a CMFT generator, x2y or y2x, does)")
        }
        if let from { return from == 0 ? (a, b) : (b, a) }
        guard let text = generator.metadata["pairs"] else {
            throw CMFError.invalidArgument("the generator's metadata does not say which pair it reads; give the direction (pair A = t1,t1ce → pair B, or B → A)")
        }
        let groups = try ModelMetadata.parsePairs(text)
        guard groups.count == 2, groups[0].count == generator.inChannels, groups[1].count == generator.outChannels else {
            throw CMFError.format("generator metadata pairs \"\(text)\" does not read as input|output with \(generator.inChannels) and \(generator.outChannels) modalities")
        }
        return (groups[0], groups[1])
    }

    /// Synthesises `output` modalities from `input`'s `from` modalities.
    /// - Throws: the pre-processing's errors (missing modality, grids differ, NaNs), shape
    ///   errors for a network that does not fit.
    public static func translate(_ input: CaseInput, generator: Network, from: [Modality], to: [Modality],
                                 options: PreprocessOptions = PreprocessOptions(), _ ctx: ForwardContext) throws -> [Modality: ImageVolume] {
        guard case .unet(let g) = generator.body, g.outChannels == to.count else {
            throw CMFError.invalidArgument("the generator writes \(generator.outChannels) channels, \(to.count) modalities were asked for")
        }
        let prepared = try Preprocessor.run(input, modalities: from, options: options, sizeMultiple: 16)
        let out = try g.forward(prepared.input, ctx).logits
        let pad = prepared.paddedShape, grid = prepared.gridShape
        var result: [Modality: ImageVolume] = [:]
        for (c, m) in to.enumerated() {
            let channel = Array(out.storage[(c * pad.count)..<((c + 1) * pad.count)])
            var voxels = [Float](repeating: 0, count: grid.count)
            prepared.box.paste(channel, partGrid: pad, into: &voxels, grid: grid)
            for i in voxels.indices where prepared.brainMask[i] == 0 { voxels[i] = 0 }
            result[m] = ImageVolume(shape: grid, geometry: prepared.geometry, voxels: voxels)
        }
        return result
    }
}
