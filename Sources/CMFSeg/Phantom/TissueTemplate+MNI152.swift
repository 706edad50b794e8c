import Synchronization

extension TissueTemplate {
    /// The bundled template files (`BundledResources`, folder `mni152/`).
    public static let mni152Files = (
        t1: "mni152/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
        gm: "mni152/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
        wm: "mni152/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
    )

    /// The MNI152 ICBM 2009a symmetric template shipped with the library (197×233×189,
    /// 1 mm): brain mask = T1 > 0 (the template is skull-stripped), GM and WM probability
    /// maps scaled from 0…255 to 0…1.
    /// - Throws: `CMFError.io` when a file is not found, `.format`/`.shape` when the files
    ///   are not three maps on one grid.
    public static func mni152() throws -> TissueTemplate {
        let t1Path = try BundledResources.file(mni152Files.t1).path
        let gmPath = try BundledResources.file(mni152Files.gm).path
        let wmPath = try BundledResources.file(mni152Files.wm).path
        let t1 = try Nifti.readImage(t1Path)
        let gm = try Nifti.readImage(gmPath)
        let wm = try Nifti.readImage(wmPath)
        try Nifti.requireSameGrid([(t1Path, t1.shape, t1.geometry), (gmPath, gm.shape, gm.geometry),
                                   (wmPath, wm.shape, wm.geometry)])
        return try TissueTemplate(shape: t1.shape, affine: t1.geometry.affine,
                                  mask: t1.voxels.map { $0 > 0 ? 1 : 0 },
                                  gm: gm.voxels.map { $0 / 255 }, wm: wm.voxels.map { $0 / 255 })
    }
}

extension TissueTemplate {
    private static let cache = MNI152Cache()

    /// ``mni152()`` loaded once per process and shared (about 105 MB kept for the process's
    /// life): for test suites and tools that make phantoms again and again. Thread-safe; a
    /// failed load is not cached.
    public static func sharedMNI152() throws -> TissueTemplate {
        try cache.get()
    }
}

/// The lock-protected slot behind ``TissueTemplate/sharedMNI152()``.
private final class MNI152Cache: Sendable {
    private let template = Mutex<TissueTemplate?>(nil)

    func get() throws -> TissueTemplate {
        try template.withLock { template in
            if let template { return template }
            let loaded = try TissueTemplate.mni152()
            template = loaded
            return loaded
        }
    }
}
