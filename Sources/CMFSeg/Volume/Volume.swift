/// The size of a 3-D voxel grid.
///
/// Axis order, once for the whole library: x is NIfTI's i (fastest in memory), then y (j),
/// then z (k); voxel (x, y, z) is at `x + nx * (y + ny * z)`. Seen as a tensor
/// `[D, H, W]` (PyTorch order), D = z, H = y, W = x.
public struct Shape3: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var nx: Int, ny: Int, nz: Int

    public init(_ nx: Int, _ ny: Int, _ nz: Int) {
        self.nx = nx; self.ny = ny; self.nz = nz
    }

    /// Number of voxels (callers validate sizes before constructing huge shapes).
    public var count: Int { nx * ny * nz }

    @inline(__always) public func index(_ x: Int, _ y: Int, _ z: Int) -> Int {
        x + nx * (y + ny * z)
    }

    public var description: String { "\(nx)×\(ny)×\(nz)" }
}

extension Shape3 {
    /// The grid of spatial sizes given in tensor order `[D, H, W]` (D = nz, H = ny, W = nx),
    /// as patch sizes are given in weight metadata, on the command line and in the C API;
    /// nil unless three positive sizes.
    public init?(dhw: [Int]) {
        guard dhw.count == 3, dhw.allSatisfy({ $0 > 0 }) else { return nil }
        self.init(dhw[2], dhw[1], dhw[0])
    }

    /// "D,H,W": the sizes in tensor order as weight metadata writes them (`init?(dhw:)` reads them).
    public var dhwText: String { "\(nz),\(ny),\(nx)" }
}

/// A 3-D image: a grid, its geometry and contiguous voxels in the order `Shape3` documents.
///
/// `Volume<Float>` (``ImageVolume``) holds MRI intensities and probabilities,
/// `Volume<UInt8>` (``LabelMap``) holds label maps.
public struct Volume<Scalar: Sendable>: Sendable {
    public var shape: Shape3
    public var geometry: Geometry
    /// `shape.count` voxels, x fastest.
    public var voxels: [Scalar]

    /// - Precondition: `voxels.count == shape.count` (an internal invariant; public entry
    ///   points validate their inputs before they build a volume).
    public init(shape: Shape3, geometry: Geometry, voxels: [Scalar]) {
        precondition(voxels.count == shape.count, "voxel count \(voxels.count) does not match \(shape)")
        self.shape = shape
        self.geometry = geometry
        self.voxels = voxels
    }

    public init(shape: Shape3, geometry: Geometry, repeating value: Scalar) {
        self.init(shape: shape, geometry: geometry, voxels: [Scalar](repeating: value, count: shape.count))
    }

    @inline(__always) public subscript(x: Int, y: Int, z: Int) -> Scalar {
        get { voxels[shape.index(x, y, z)] }
        set { voxels[shape.index(x, y, z)] = newValue }
    }

    /// A volume on the same grid with other voxels.
    public func with<T>(voxels: [T]) -> Volume<T> {
        Volume<T>(shape: shape, geometry: geometry, voxels: voxels)
    }
}

public typealias ImageVolume = Volume<Float>
public typealias LabelMap = Volume<UInt8>
