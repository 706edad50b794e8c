import ArgumentParser
import CMFSeg

/// `cmfseg info FILE [--json]`: what a NIfTI file holds (dims, spacing, datatype, version,
/// affine, xform codes, intensity range, label histogram).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a NIfTI image: dims, spacing, datatype, affine, intensities, labels.")

    @Argument(help: "A .nii, .nii.gz or .hdr/.img file.") var file: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        if file.hasSuffix(".safetensors") {
            throw CMFError.unsupported("cannot describe \(file): safetensors support comes with the model module")
        }
        let summary = try NiftiSummary.of(file)
        print(json ? try summary.json() : summary.text)
    }
}
