/// How the pipeline slides a fixed-size network window over a case.
public struct SlidingWindowOptions: Equatable, Sendable {
    /// How windows cover the brain box.
    public enum Layout: String, CaseIterable, Sendable {
        /// Windows of the patch size, neighbours sharing `overlap` of a window (nnU-Net's
        /// sliding window). A voxel is predicted by up to 8 windows and their average kept.
        case grid
        /// Per axis, the fewest windows no longer than the patch that cover the brain box,
        /// each shrunk to the smallest multiple of the size multiple that still covers it
        /// with its neighbours; no overlap beyond that rounding (`overlap` is not used). A
        /// 141 × 178 × 147 box takes 8 windows of 80 × 96 × 80 instead of 8 of 128³: about a
        /// third of the network's work, each voxel predicted once.
        case fitted
    }

    /// Window size along x, y, z (W, H, D); each a positive multiple of the predictor's
    /// `sizeMultiple`. Default 128³, the authors' training patch. With the fitted layout, the
    /// largest window.
    public var patch: Shape3 = Shape3(128, 128, 128)
    /// Fraction of a window shared with its neighbour, in 0 ..< 1 (default 0.5, nnU-Net).
    public var overlap: Double = 0.5
    /// How windows cover the case (default: grid).
    public var layout: Layout = .grid
    /// Mirroring test-time augmentation: average the 8 flip combinations of the 3 axes.
    public var mirroring: Bool = false
    /// σ of the Gaussian importance map as a fraction of the patch size (nnU-Net: 1/8).
    public var sigmaScale: Double = 1.0 / 8

    /// The largest patch side accepted.
    public static let maximumPatchSide = 256
    /// The largest patch volume accepted: the CMFF forward pass needs about 1.5 GiB at 128³
    /// and grows linearly, so 4 × 128³ ≈ 8.4 M voxels is about 6 GiB.
    public static let maximumPatchVoxels = 4 * 128 * 128 * 128

    public init() {}

    /// - Throws: `CMFError.invalidArgument` naming the bad field.
    public func validate(sizeMultiple: Int) throws {
        let m = max(sizeMultiple, 1)
        for (axis, n) in [("x", patch.nx), ("y", patch.ny), ("z", patch.nz)] {
            guard n >= 1, n <= Self.maximumPatchSide, n % m == 0 else {
                throw CMFError.invalidArgument("patch size \(patch) is invalid along \(axis): each side must be a multiple of \(m) in 1...\(Self.maximumPatchSide)")
            }
        }
        guard patch.count <= Self.maximumPatchVoxels else {
            throw CMFError.invalidArgument("patch size \(patch) has \(patch.count) voxels; at most \(Self.maximumPatchVoxels) (memory grows with the patch: about 1.5 GiB at 128³)")
        }
        guard overlap.isFinite, overlap >= 0, overlap < 1 else {
            throw CMFError.invalidArgument("overlap must be in [0, 1) (got \(overlap))")
        }
        guard sigmaScale.isFinite, sigmaScale > 0 else {
            throw CMFError.invalidArgument("Gaussian sigma scale must be positive (got \(sigmaScale))")
        }
    }

    /// The window the fitted layout uses on a brain box of `crop`: along each axis of length
    /// n with patch side p, k = ⌈n / p⌉ windows of side ⌈n / k⌉ rounded up to a multiple of
    /// `sizeMultiple` (never more than p, since p is such a multiple and n / k ≤ p).
    public func fittedPatch(crop: Shape3, sizeMultiple: Int) -> Shape3 {
        let m = max(sizeMultiple, 1)
        func side(_ n: Int, _ p: Int) -> Int {
            let k = max((n + p - 1) / p, 1)
            let tile = (n + k - 1) / k
            return min((tile + m - 1) / m * m, p)
        }
        return Shape3(side(crop.nx, patch.nx), side(crop.ny, patch.ny), side(crop.nz, patch.nz))
    }
}
