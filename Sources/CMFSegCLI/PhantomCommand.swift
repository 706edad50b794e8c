import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg phantom`: BraTS-like synthetic cases from the bundled MNI152 anatomy.
struct PhantomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phantom",
        abstract: "Generate synthetic BraTS-like cases (T1, T1ce, T2, FLAIR, labels 0/1/2/4).",
        discussion: """
        Each case is the MNI152 2009a anatomy under a random affine and elastic warp, with one \
        or two gliomas (necrotic core, enhancing rim, edema along white matter), rendered as \
        four contrasts (partial volume, bias field, texture, Rician noise), skull-stripped, on \
        the BraTS 2018 grid (240×240×155, 1 mm). Files: \
        DIR/phantom_NNNN/phantom_NNNN_{t1,t1ce,t2,flair,seg}.nii.gz (images float32, labels \
        uint8). --variant shifted draws other contrasts, noise, bias fields and tumour shapes \
        (to score a model on cases unlike its training data). Case k depends only on the \
        variant, the seed and k: same seed, same bytes, whatever the \
        thread count or --cases. Existing case folders are refused unless --force; each case \
        folder appears complete or not at all.
        """
    )

    @Option(name: .long, help: "Output directory (created if missing).")
    var out: String

    @Option(name: .long, help: "Number of cases (1–10000).")
    var cases: Int = 1

    @Option(name: .long, help: "Random seed (0 … 2^64−1).")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Index of the first case (cases are named by index).")
    var start: Int = 0

    @Option(name: .long, help: "Family of cases: standard (what models train on) or shifted (other contrasts, noise, bias and tumour shapes, to test a model on cases unlike its training data).")
    var variant: String = PhantomVariant.standard.rawValue

    @Flag(name: .long, help: "Replace existing case folders.")
    var force = false

    @Option(name: .long, help: "Threads for the voxel kernels (0: all cores).")
    var threads: Int = 0

    @Option(name: .long, help: "Also write a PNG of one axial slice of the first case (T1, T1ce, T2, FLAIR, FLAIR + labels).")
    var preview: String?

    @Option(name: .long, help: "Axial slice for --preview (default: the slice with the most tumour).")
    var previewSlice: Int?

    @Option(name: .long, help: ArgumentHelp("Coarser grid: voxels N times larger over the BraTS field of view (tests).", visibility: .hidden))
    var gridFactor: Int = 1

    func run() throws {
        guard (1...10_000).contains(cases) else { throw CMFError.invalidArgument("--cases \(cases) must be 1–10000") }
        guard start >= 0, start <= 1_000_000 else { throw CMFError.invalidArgument("--start \(start) must be 0–1000000") }
        guard (0...256).contains(threads) else { throw CMFError.invalidArgument("--threads \(threads) must be 0–256") }
        guard let family = PhantomVariant(rawValue: variant) else {
            throw CMFError.invalidArgument("--variant \(variant) must be one of \(PhantomVariant.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...8).contains(gridFactor) else { throw CMFError.invalidArgument("--grid-factor \(gridFactor) must be 1–8") }
        if let s = previewSlice, s < 0 { throw CMFError.invalidArgument("--preview-slice \(s) must be ≥ 0") }
        if previewSlice != nil && preview == nil {
            throw CMFError.invalidArgument("--preview-slice needs --preview FILE.png")
        }
        if let p = preview {
            guard p.lowercased().hasSuffix(".png") else {
                throw CMFError.invalidArgument("--preview \(p): the file name must end in .png")
            }
            let parent = URL(fileURLWithPath: p).deletingLastPathComponent().path
            var isDir = false
            guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir,
                  FileManager.default.isWritableFile(atPath: parent) else {
                throw CMFError.io("--preview \(p): the folder \(parent) does not exist or is not writable")
            }
        }
        let grid = gridFactor == 1 ? PhantomGrid.brats : PhantomGrid.coarse(gridFactor)
        if let s = previewSlice, s >= grid.shape.nz {
            throw CMFError.invalidArgument("--preview-slice \(s) is outside 0…\(grid.shape.nz - 1)")
        }
        let dir = try Self.prepareDirectory(out)
        let indices = start..<(start + cases)
        if !force {
            for i in indices {
                let folder = PhantomCase.files(name: PhantomCase.name(index: i), in: dir).folder
                if FileManager.default.fileExists(atPath: folder.path) {
                    throw CMFError.io("\(folder.path) already exists (use --force to replace it)")
                }
            }
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        let template = try TissueTemplate.mni152()
        let generator = try PhantomGenerator(template: template, seed: seed, grid: grid, threads: threads,
                                             variant: family)
        print("template loaded in \(Self.seconds(clock.now - t0)) s; grid \(grid.shape), \(grid.spacing) mm")
        var generateTotal = Duration.zero, writeTotal = Duration.zero
        for i in indices {
            let a = clock.now
            let c = try generator.generate(index: i)
            let b = clock.now
            let folder = try c.write(into: dir, replace: force)
            let e = clock.now
            generateTotal += b - a; writeTotal += e - b
            var counts: [UInt8: Int] = [:]
            for l in c.labels.voxels where l != 0 { counts[l, default: 0] += 1 }
            let voxels = [1, 2, 4].map { "\($0):\(counts[UInt8($0), default: 0])" }.joined(separator: " ")
            print("\(folder.path): \(c.tumourKinds.joined(separator: "+")), labels \(voxels); generated \(Self.seconds(b - a)) s, written \(Self.seconds(e - b)) s")
            if i == start, let p = preview {
                let z = previewSlice ?? SlicePreview.defaultSlice(labels: c.labels, shape: c.labels.shape)
                let image = try SlicePreview.render(images: c.images, labels: c.labels, slice: z, zoom: gridFactor)
                try PNGWriter.write(image, to: URL(fileURLWithPath: p))
                print("preview: \(p) (axial slice \(z))")
            }
        }
        let n = Double(cases)
        print("\(cases) case(s): " + String(cFormat: "%.2f s per case to generate, %.2f s to write; ",
                                            Self.secondsValue(generateTotal) / n, Self.secondsValue(writeTotal) / n)
              + "total \(Self.seconds(clock.now - t0)) s")
    }

    /// Creates `path` if missing; refuses a file, and a directory that cannot be written.
    static func prepareDirectory(_ path: String) throws -> URL {
        guard !path.isEmpty else { throw CMFError.invalidArgument("--out must not be empty") }
        let url = URL(fileURLWithPath: path)
        var isDir = false
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir else { throw CMFError.io("--out \(path) is a file, not a directory") }
        } else {
            do {
                try fm.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw CMFError.io("cannot create the output directory \(path): \(CMFError.reason(error))")
            }
        }
        guard fm.isWritableFile(atPath: url.path) else { throw CMFError.io("the output directory \(path) is not writable") }
        return url
    }

    static func secondsValue(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func seconds(_ d: Duration) -> String { String(cFormat: "%.2f", secondsValue(d)) }
}
