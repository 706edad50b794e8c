import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg translate`: a CMFT generator on a whole case.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Synthesise one modality pair from the other with a CMFT generator.",
        discussion: """
        Reads the case folder given by --in (<case>_t1, _t1ce, _t2, _flair NIfTI files; only the generator's input pair is needed), pre-processes it as segmentation does, runs the generator once on the whole brain box and writes OUT/<case>_<modality>_synth.nii.gz for each synthesised modality, on the input's grid, in the z-score units the networks use (0 outside the brain). --preview draws the real and the synthesised images side by side. The generator's metadata says which pair it reads (models written by `cmfseg train cmft` carry it); for other files give --from a (t1, t1ce → t2, flair) or --from b.
        """
    )

    @Option(name: .long, help: "The generator's weights (x2y or y2x).") var weights: String
    @Option(name: .customLong("in"), help: "Case folder.") var input: String
    @Option(name: .long, help: "Output folder (created if missing).") var out: String
    @Option(name: .long, help: "The pair the generator reads: a or b (default: from its metadata).") var from: String?
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .long, help: "Also draw the real and the synthesised images of the slice with the most tumour (or the middle one) side by side as a PNG.")
    var preview: String?

    func validate() throws {
        if let from, from != "a", from != "b" { throw ValidationError("--from must be a or b") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        if let preview, !preview.lowercased().hasSuffix(".png") { throw ValidationError("--preview \(preview): the file name must end in .png") }
    }

    func run() throws {
        let generator = try Network.load(paths: [weights])
        let (inputs, outputs) = try PairTranslator.direction(generator, from: from.map { $0 == "a" ? 0 : 1 })
        let folder = try CaseFolder(input)
        var paths: [Modality: String] = [:]
        for m in inputs { paths[m] = try image(m, of: folder) }
        // the real images the preview compares with, checked before the work
        let reals = try preview == nil ? [] : outputs.map { try image($0, of: folder) }
        let volumes = try PairTranslator.translate(CaseInput(files: paths), generator: generator, from: inputs, to: outputs,
                                                   ForwardContext(threads: threads))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for m in outputs {
            let path = "\(out)/\(folder.name)_\(m.rawValue)_synth.nii.gz"
            try Nifti.write(volumes[m]!, to: path, description: "cmfseg translate: \(m.rawValue) from \(inputs.map(\.rawValue).joined(separator: "+"))")
            print("wrote \(path)")
        }
        if let preview { try drawPreview(volumes, outputs: outputs, reals: reals, folder: folder, to: preview) }
    }

    /// The path of modality `m` in the case folder.
    private func image(_ m: Modality, of folder: CaseFolder) throws -> String {
        guard let p = folder.images[m] else {
            throw CMFError.invalidArgument("case \(folder.name) (\(folder.path)) has no \(m.rawValue) image (\(folder.expectedFile(m.rawValue)))")
        }
        return p
    }

    /// Real beside synthesised for each output modality (`reals`: their files, in `outputs` order).
    private func drawPreview(_ synthesised: [Modality: ImageVolume], outputs: [Modality], reals: [String],
                             folder: CaseFolder, to png: String) throws {
        var panels: [(title: String, volume: ImageVolume)] = []
        for (m, real) in zip(outputs, reals) {
            let name = m.rawValue.uppercased()
            panels += [("\(name) REAL", try Nifti.readImage(real)), ("\(name) SYNTH", synthesised[m]!)]
        }
        let labels = try folder.seg.map { try Nifti.readLabels($0) }
        let z = SlicePreview.defaultSlice(labels: labels, shape: panels[0].volume.shape)
        try PNGWriter.write(try SlicePreview.renderPanels(panels, slice: z, zoom: 1), to: URL(fileURLWithPath: png))
        print("\(png): axial slice \(z), real and synthesised side by side")
    }
}
