extension CaseInput {
    /// Reads the NIfTI files of a case (any subset of the four modalities); each path is
    /// the volume's source in messages.
    /// - Parameter limits: caps on each read (``Nifti/readImage(_:limits:)``); nil: the process's.
    /// - Throws: `CMFError` from ``Nifti/readImage(_:limits:)`` (missing or malformed file,
    ///   not 3-D, beyond the limits), `.invalidArgument` when no path is given.
    public init(files paths: [Modality: String], limits: ResourceLimits? = nil) throws {
        guard !paths.isEmpty else {
            throw CMFError.invalidArgument("no input image given: need at least one modality pair (t1 + t1ce or t2 + flair)")
        }
        var volumes: [Modality: ImageVolume] = [:]
        for m in Modality.allCases {
            guard let p = paths[m] else { continue }
            volumes[m] = try Nifti.readImage(p, limits: limits)
        }
        self.init(volumes: volumes, sources: paths)
    }
}
