/// The voxel grid a phantom is drawn on: by default the BraTS 2018 grid, 240×240×155 at
/// 1 mm with BraTS's affine (x = −i, y = −j, z = k, qform and sform code 1).
///
/// A coarser grid (for fast tests) covers the same field of view: voxel i of a grid with
/// spacing s spans BraTS voxels s·i … s·i + s − 1, so the anatomy lands in the same place.
public struct PhantomGrid: Equatable, Sendable {
    public var shape: Shape3
    /// Isotropic voxel size in mm (> 0).
    public var spacing: Double

    public init(shape: Shape3, spacing: Double) {
        self.shape = shape
        self.spacing = spacing
    }

    /// 240×240×155, 1 mm: the BraTS 2017–2020 grid (SRI24 space).
    public static let brats = PhantomGrid(shape: Shape3(240, 240, 155), spacing: 1)

    /// A grid with voxels `factor` times larger covering BraTS's field of view (tests).
    public static func coarse(_ factor: Int) -> PhantomGrid {
        let f = max(1, factor)
        return PhantomGrid(shape: Shape3((240 + f - 1) / f, (240 + f - 1) / f, (155 + f - 1) / f),
                           spacing: Double(f))
    }

    /// Row-major 4×4 voxel → world (RAS, mm) matrix.
    public var affine: [Double] {
        let s = spacing, o = (s - 1) / 2
        return [-s, 0, 0, -o,
                0, -s, 0, -o,
                0, 0, s, o,
                0, 0, 0, 1]
    }

    /// The NIfTI geometry written with the phantom (qform = sform = `affine`, codes 1 as in
    /// BraTS files).
    public var geometry: Geometry {
        Geometry(spacing: SIMD3(spacing, spacing, spacing), qformCode: 1, qform: affine,
                 sformCode: 1, sform: affine, xyztUnits: 2)
    }

    /// World position (RAS mm) of voxel (x, y, z) (fractional allowed).
    public func world(_ p: SIMD3<Double>) -> SIMD3<Double> {
        let a = affine
        return SIMD3(a[0] * p.x + a[3], a[5] * p.y + a[7], a[10] * p.z + a[11])
    }

    /// Voxel coordinate of a world position (inverse of `world`).
    public func voxel(_ w: SIMD3<Double>) -> SIMD3<Double> {
        let a = affine
        return SIMD3((w.x - a[3]) / a[0], (w.y - a[7]) / a[5], (w.z - a[11]) / a[10])
    }

    /// Where the centre of the brain goes, in world mm: the middle of the field of view in
    /// x and y; in z, 77 mm above the lowest slice (BraTS brains fill slices ~0–150).
    static let brainAnchorWorld = SIMD3<Double>(-119.5, -119.5, 77)
}
