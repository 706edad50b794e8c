extension SegmentationResult {
    /// Writes the result: the label map (uint8, input geometry, `summary` in the NIfTI
    /// `descrip` field) and, when asked and present, the 4-D probability image — both
    /// complete before either appears (see ``Nifti/write(labels:to:probabilities:to:description:)``).
    /// - Throws: `CMFError.invalidArgument` when `probabilityPath` is set but the
    ///   probabilities were not kept; `.io` from writing.
    public func write(labelsTo path: String, probabilitiesTo probabilityPath: String? = nil) throws {
        if probabilityPath != nil, probabilities == nil {
            throw CMFError.invalidArgument("probabilities were not kept; set keepProbabilities to write \(probabilityPath ?? "")")
        }
        try Nifti.write(labels: labels, to: path, probabilities: probabilities, to: probabilityPath,
                        description: summary)
    }
}
