/// Where a voxel grid sits in the world: NIfTI's spacing, qform and sform, kept exactly so
/// that an image written by the library has the geometry of the image it came from.
///
/// Matrices are row-major 4×4 `[Double]` of 16 values mapping voxel (i, j, k, 1) to world
/// (x, y, z, 1) in mm, as NIfTI's `qto_xyz` / `sto_xyz`.
public struct Geometry: Equatable, Sendable {
    /// Voxel size in mm along i, j, k (NIfTI pixdim[1...3]); all > 0.
    public var spacing: SIMD3<Double>
    /// NIfTI qform_code (0 = unset) and the matrix it describes.
    public var qformCode: Int32
    public var qform: [Double]
    /// NIfTI sform_code (0 = unset) and its matrix.
    public var sformCode: Int32
    public var sform: [Double]
    /// NIfTI xyzt_units (spatial and temporal units), kept as read.
    public var xyztUnits: Int32
    /// The quaternion parameters the qform was read from (nil for a grid made in memory).
    /// A writer uses them verbatim while they still produce `qform`, so a written file's
    /// qform fields equal the source's bit for bit; otherwise it derives them from `qform`.
    public var qformParameters: QformParameters? = nil

    /// A grid with the given spacing, origin 0 and no rotation (qform code 1, sform unset).
    public init(spacing: SIMD3<Double> = SIMD3(1, 1, 1)) {
        self.spacing = spacing
        let scaling = Geometry.scalingMatrix(spacing)
        self.qformCode = 1
        self.qform = scaling
        self.sformCode = 0
        self.sform = scaling
        self.xyztUnits = 2  // NIFTI_UNITS_MM
    }

    public init(spacing: SIMD3<Double>, qformCode: Int32, qform: [Double],
                sformCode: Int32, sform: [Double], xyztUnits: Int32) {
        self.spacing = spacing
        self.qformCode = qformCode
        self.qform = qform
        self.sformCode = sformCode
        self.sform = sform
        self.xyztUnits = xyztUnits
    }

    /// The voxel-to-world affine NIfTI readers use: sform if set, else qform if set, else
    /// plain scaling by the spacing.
    public var affine: [Double] {
        if sformCode > 0 { return sform }
        if qformCode > 0 { return qform }
        return Geometry.scalingMatrix(spacing)
    }

    /// True when two grids describe the same world positions (spacing and affine equal to
    /// `tolerance`, in mm), the test for "these images can be compared voxel by voxel".
    public func matches(_ other: Geometry, tolerance: Double = 1e-4) -> Bool {
        let a = affine, b = other.affine
        for i in 0..<16 where abs(a[i] - b[i]) > tolerance { return false }
        for i in 0..<3 where abs(spacing[i] - other.spacing[i]) > tolerance { return false }
        return true
    }

    static func scalingMatrix(_ s: SIMD3<Double>) -> [Double] {
        [s.x, 0, 0, 0,
         0, s.y, 0, 0,
         0, 0, s.z, 0,
         0, 0, 0, 1]
    }
}

/// NIfTI's qform as stored in a header: quaternion (b, c, d), offset, and qfac (±1, the sign
/// of pixdim[0]) — with the spacing, they define the qform matrix.
public struct QformParameters: Equatable, Sendable {
    public var b: Double, c: Double, d: Double
    public var offset: SIMD3<Double>
    public var qfac: Double

    public init(b: Double, c: Double, d: Double, offset: SIMD3<Double>, qfac: Double) {
        self.b = b; self.c = c; self.d = d; self.offset = offset; self.qfac = qfac
    }
}
