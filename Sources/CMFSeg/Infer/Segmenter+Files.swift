import Foundation

extension Segmenter {
    /// Reads the NIfTI files of a case (any subset of the four modalities).
    /// - Throws: `CMFError` from ``Nifti/readImage(_:)`` (missing or malformed file, not 3-D),
    ///   `.invalidArgument` when no path is given.
    public static func readCase(_ paths: [Modality: String]) throws -> CaseInput {
        guard !paths.isEmpty else {
            throw CMFError.invalidArgument("no input image given: pass --t1 and --t1ce, --t2 and --flair, or all four")
        }
        var volumes: [Modality: ImageVolume] = [:]
        for m in Modality.allCases {
            guard let p = paths[m] else { continue }
            volumes[m] = try Nifti.readImage(p)
        }
        return CaseInput(volumes: volumes, sources: paths)
    }

    /// Fails early, before a long computation, when an output cannot be written: its
    /// directory missing or not writable, the path a directory, the same file as an input,
    /// or two outputs the same file.
    /// - Throws: `CMFError.io` / `.invalidArgument` naming the path.
    public static func checkOutputs(_ outputs: [String], inputs: [String]) throws {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        let inputSet = Set(inputs.map(canonical))
        var seen = Set<String>()
        for out in outputs {
            guard !out.isEmpty else { throw CMFError.invalidArgument("empty output path") }
            let c = canonical(out)
            guard !inputSet.contains(c) else {
                throw CMFError.invalidArgument("output \(out) is also an input; choose another file name")
            }
            guard seen.insert(c).inserted else { throw CMFError.invalidArgument("output \(out) is given twice") }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir.boolValue {
                throw CMFError.io("cannot write \(out): is a directory")
            }
            let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw CMFError.io("cannot write \(out): directory \(dir) does not exist")
            }
            guard access(dir, W_OK) == 0 else {
                throw CMFError.io("cannot write \(out): directory \(dir) is not writable")
            }
        }
    }

    /// Writes a result: the label map (uint8, input geometry, `summary` in the NIfTI
    /// `descrip` field) and, when asked and present, the 4-D probability image — both
    /// complete before either appears (see ``Nifti/write(labels:to:probabilities:to:description:)``).
    public static func write(_ result: SegmentationResult, labelsTo path: String, probabilitiesTo probabilityPath: String? = nil) throws {
        if probabilityPath != nil, result.probabilities == nil {
            throw CMFError.invalidArgument("probabilities were not kept; set keepProbabilities to write \(probabilityPath ?? "")")
        }
        try Nifti.write(labels: result.labels, to: path, probabilities: result.probabilities, to: probabilityPath,
                        description: result.summary)
    }
}
