import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg preview`: one axial slice of a BraTS-style case folder as a PNG.
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Draw one axial slice of a case (T1, T1ce, T2, FLAIR, FLAIR + labels) as a PNG.",
        discussion: """
        CASE_DIR holds NAME_{t1,t1ce,t2,flair}.nii.gz and optionally NAME_seg.nii.gz, NAME being \
        the folder's name (BraTS and `cmfseg phantom` layout); .nii files are accepted too. \
        Radiological orientation (patient's right on the left), anterior up. Labels: NCR/NET \
        red, edema green, enhancing tumour yellow.
        """
    )

    @Argument(help: "The case folder.")
    var caseDir: String

    @Option(name: .long, help: "Axial slice (default: the slice with the most labelled voxels, else the middle).")
    var slice: Int?

    @Option(name: .long, help: "Pixel magnification, 1–8.")
    var zoom: Int = 1

    @Option(name: .long, help: "Output PNG file.")
    var out: String

    func run() throws {
        guard out.lowercased().hasSuffix(".png") else { throw CMFError.invalidArgument("--out \(out): the file name must end in .png") }
        let dir = URL(fileURLWithPath: caseDir)
        var isDir = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir else {
            throw CMFError.io("\(caseDir) is not a directory")
        }
        let name = dir.standardizedFileURL.lastPathComponent
        func find(_ suffix: String) -> String? {
            for ext in [".nii.gz", ".nii"] {
                let p = dir.appendingPathComponent("\(name)_\(suffix)\(ext)").path
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            return nil
        }
        var images: [Modality: ImageVolume] = [:]
        for m in Modality.allCases {
            guard let p = find(m.rawValue) else {
                throw CMFError.io("\(caseDir): \(name)_\(m.rawValue).nii.gz not found")
            }
            images[m] = try Nifti.readImage(p)
        }
        let labels = try find("seg").map { try Nifti.readLabels($0) }
        let shape = images[.t1]?.shape ?? Shape3(0, 0, 0)
        let z = slice ?? SlicePreview.defaultSlice(labels: labels, shape: shape)
        let image = try SlicePreview.render(images: images, labels: labels, slice: z, zoom: zoom)
        try PNGWriter.write(image, to: URL(fileURLWithPath: out))
        print("\(out): axial slice \(z) of \(name)")
    }
}
