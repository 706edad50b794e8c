extension CaseInput {
    /// Checks that the case can be segmented: at least one volume, every volume on one grid
    /// (same dims, spacing and affine to 1e-4 mm), and — unless `policy` replaces them —
    /// no NaN or infinite voxel.
    ///
    /// With `.replaceWithZero` the non-finite voxels are set to 0 (background) in place.
    /// - Throws: `CMFError.invalidArgument` (no volume, non-finite values),
    ///   `CMFError.shape` (grids differ), each naming the modality and its source.
    public mutating func validate(nonFinite policy: PreprocessOptions.NonFinitePolicy) throws {
        let present = available
        guard !present.isEmpty else {
            throw CMFError.invalidArgument("no input volume given: need at least one modality pair (t1 + t1ce or t2 + flair)")
        }
        try Nifti.requireSameGrid(present.compactMap { m in
            volumes[m].map { (name: name(m), shape: $0.shape, geometry: $0.geometry) }
        })
        for m in present {
            guard var v = volumes[m] else { continue }
            let bad = v.voxels.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            guard bad > 0 else { continue }
            switch policy {
            case .error:
                throw CMFError.invalidArgument("\(name(m)) has \(bad) NaN or infinite voxel\(bad == 1 ? "" : "s"); fix the image, or treat them as background with --nonfinite-to-zero (C API: params.nonfinite_to_zero = 1)")
            case .replaceWithZero:
                for i in v.voxels.indices where !v.voxels[i].isFinite { v.voxels[i] = 0 }
                volumes[m] = v
            }
        }
    }
}
