import ArgumentParser
import CMFSeg

/// `cmfseg info FILE [--json]`: what a NIfTI file holds (dims, spacing, datatype, version,
/// affine, xform codes, intensity range, label histogram), or a safetensors file (tensors
/// with dtype and shape, metadata, the network they form).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a NIfTI image (dims, spacing, datatype, affine, intensities, labels) or a safetensors file (tensors, metadata, network).")

    @Argument(help: "A .nii, .nii.gz or .hdr/.img file, or a .safetensors file.") var file: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        if file.hasSuffix(".safetensors") {
            let summary = try SafeTensorsSummary.of(file)
            print(json ? try summary.json() : summary.text)
            return
        }
        let summary = try NiftiSummary.of(file)
        print(json ? try summary.json() : summary.text)
    }
}
