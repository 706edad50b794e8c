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
        guard let first = present.first, let reference = volumes[first] else {
            throw CMFError.invalidArgument("no input volume given: need at least one modality pair (t1 + t1ce or t2 + flair)")
        }
        for m in present.dropFirst() {
            guard let v = volumes[m] else { continue }
            try Self.requireSameGrid(reference, name(first), v, name(m))
        }
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

    /// Two volumes share a grid when their dims are equal and their geometries match.
    /// - Throws: `CMFError.shape` naming both.
    static func requireSameGrid(_ a: ImageVolume, _ aName: String, _ b: ImageVolume, _ bName: String) throws {
        guard a.shape == b.shape else {
            throw CMFError.shape("\(bName) is \(b.shape) but \(aName) is \(a.shape); all modalities must share one voxel grid (co-register them first)")
        }
        guard a.geometry.matches(b.geometry) else {
            throw CMFError.shape("\(bName) and \(aName) have the same dims but different spacing or affine; all modalities must share one voxel grid (co-register them first)")
        }
    }
}
