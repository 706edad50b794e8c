import Glibc

/// The library's seeded pseudo-random numbers (phantoms, training crops and augmentation,
/// weight initialisation, benchmark inputs): xoshiro256** (Blackman & Vigna) seeded through
/// SplitMix64. Same seed, same sequence, on every platform and build — nothing here touches
/// `SystemRandomNumberGenerator`. The whole state is four words (`state`), so a training
/// checkpoint can store it and resume the exact sequence.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole state is derived from `seed` (any value, 0 included).
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededRandom.splitMix64(&sm)
        s1 = SeededRandom.splitMix64(&sm)
        s2 = SeededRandom.splitMix64(&sm)
        s3 = SeededRandom.splitMix64(&sm)
    }

    /// Restores a generator from `state` (four words, as returned by `state`).
    /// - Throws: `CMFError.format` for another count or the all-zero state xoshiro cannot leave.
    public init(state: [UInt64]) throws {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw CMFError.format("random generator state must be four words, not all zero (got \(state.count))")
        }
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
    }

    /// The whole state, for checkpoints (`init(state:)` continues the same sequence).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// The seed of stream `index` of a run seeded with `seed` (phantom case k, training step
    /// k, …): stream k is the same whatever the number of streams drawn.
    public static func derivedSeed(_ seed: UInt64, index: Int) -> UInt64 {
        var sm = seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03)
        _ = splitMix64(&sm)
        return splitMix64(&sm)
    }

    /// SplitMix64 (Steele, Lea & Flood): advances `state` and returns the next output.
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * unit()
    }

    /// Standard normal (Box–Muller, one of the pair; simple and platform-independent).
    public mutating func normal() -> Double {
        let u1 = 1.0 - unit()  // (0, 1]
        let u2 = unit()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// A fresh 64-bit key (for counter-based noise streams).
    public mutating func key() -> UInt64 { next() }
}
