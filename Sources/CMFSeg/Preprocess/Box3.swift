/// An axis-aligned box of voxels in a grid: `lower` inclusive, `upper` exclusive, per axis
/// in (x, y, z) order (see ``Shape3``).
public struct Box3: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var lower: SIMD3<Int>
    public var upper: SIMD3<Int>

    public init(lower: SIMD3<Int>, upper: SIMD3<Int>) {
        self.lower = lower
        self.upper = upper
    }

    /// The whole grid.
    public init(covering shape: Shape3) {
        self.init(lower: .zero, upper: SIMD3(shape.nx, shape.ny, shape.nz))
    }

    public var shape: Shape3 { Shape3(upper.x - lower.x, upper.y - lower.y, upper.z - lower.z) }

    public var description: String {
        "[\(lower.x)..<\(upper.x), \(lower.y)..<\(upper.y), \(lower.z)..<\(upper.z)]"
    }

    /// The smallest box holding every voxel where `mask` is true, or nil when none is.
    public static func bounding(_ shape: Shape3, where mask: (Int) -> Bool) -> Box3? {
        var lo = SIMD3(Int.max, Int.max, Int.max), hi = SIMD3(-1, -1, -1)
        var i = 0
        for z in 0..<shape.nz {
            for y in 0..<shape.ny {
                for x in 0..<shape.nx {
                    if mask(i) {
                        lo = pointwiseMin(lo, SIMD3(x, y, z))
                        hi = pointwiseMax(hi, SIMD3(x, y, z))
                    }
                    i += 1
                }
            }
        }
        guard hi.x >= 0 else { return nil }
        return Box3(lower: lo, upper: hi &+ 1)
    }

    /// Copies the box out of a voxel array laid out on `grid`.
    /// - Precondition: the box lies inside `grid` and `voxels.count == grid.count`.
    public func extract<T>(from voxels: [T], grid: Shape3) -> [T] {
        let s = shape
        var out = [T]()
        out.reserveCapacity(s.count)
        for z in lower.z..<upper.z {
            for y in lower.y..<upper.y {
                let start = grid.index(lower.x, y, z)
                out.append(contentsOf: voxels[start..<(start + s.nx)])
            }
        }
        return out
    }

    /// Writes `part` (laid out on the box's shape, or on a larger grid `partGrid` whose
    /// origin is the box's lower corner) into `voxels` laid out on `grid`.
    public func paste<T>(_ part: [T], partGrid: Shape3? = nil, into voxels: inout [T], grid: Shape3) {
        let s = shape
        let pg = partGrid ?? s
        for z in 0..<s.nz {
            for y in 0..<s.ny {
                let src = pg.index(0, y, z)
                let dst = grid.index(lower.x, lower.y + y, lower.z + z)
                for x in 0..<s.nx { voxels[dst + x] = part[src + x] }
            }
        }
    }
}
