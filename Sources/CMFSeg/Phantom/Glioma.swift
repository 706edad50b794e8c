import Glibc

/// One synthetic glioma: an irregular ellipsoidal core (necrotic centre + enhancing rim, or
/// solid enhancing, or non-enhancing) and a peritumoral edema that spreads along white
/// matter. Lengths in mm, positions in phantom voxel coordinates.
struct Glioma: Sendable {
    enum Kind: String, Sendable {
        /// Necrotic core (label 1) inside an enhancing rim (label 4): the classic glioblastoma.
        case ring
        /// Enhancing throughout (label 4), no necrosis.
        case solid
        /// Non-enhancing core (label 1 everywhere, NCR/NET), no rim: low-grade-like.
        case nonEnhancing
    }

    var kind: Kind
    /// Core centre in phantom voxel coordinates.
    var centre: SIMD3<Double>
    /// Core semi-axes in mm.
    var radii: SIMD3<Double>
    /// Row-major 3×3 rotation of the core's axes (world of the phantom grid's voxel axes).
    var rotation: [Double]
    /// Relative radius of the necrotic centre (ring kind): 1 − rim thickness (2.5–7 mm) / mean
    /// radius, at least 0.25.
    var necrosisRatio: Double
    /// Geodesic reach of the edema beyond the core, in mm (white-matter distance).
    var edemaReach: Double
    /// Amplitude of the smooth noise that makes the core irregular (in units of the radius).
    var irregularity: Double
    /// Relative push of the surrounding tissue (see `MassEffect`), 0.25–0.45.
    var massEffect: Double
    /// Smooth-noise level below which viable tumour does not enhance (−1.6 … −0.4: about
    /// 5–35 % of the rim or solid core is non-enhancing, label 1).
    var nonEnhancingThreshold: Double = -10

    /// The largest extent of the core from its centre, in mm, noise included.
    var coreExtent: Double { radii.max() * (1 + irregularity * 1.2) + 2 }

    static func randomKind(_ rng: inout SeededRandom, _ ranges: PhantomVariant.Ranges) -> Kind {
        let u = rng.unit(), t = ranges.kindThresholds
        return u < t.ring ? .ring : (u < t.solid ? .solid : .nonEnhancing)
    }

    /// A random rotation matrix (uniform unit quaternion, Shoemake's method).
    static func randomRotation(_ rng: inout SeededRandom) -> [Double] {
        let u1 = rng.unit(), u2 = rng.unit() * 2 * Double.pi, u3 = rng.unit() * 2 * Double.pi
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        let (w, x, y, z) = (a * sin(u2), a * cos(u2), b * sin(u3), b * cos(u3))
        return [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]
    }
}
