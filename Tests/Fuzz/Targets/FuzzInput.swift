/// Draws values from the fuzzer's bytes, front to back; past the end every draw is 0, so
/// any prefix of an input is itself a valid input.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isEmpty: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A value in `range` (modulo, from up to two bytes).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let raw = Int(byte()) | Int(byte()) << 8
        return range.lowerBound + raw % (range.upperBound - range.lowerBound + 1)
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    mutating func uint32() -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(byte()) << (8 * $1) }
    }

    mutating func float64() -> Double {
        Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(byte()) << (8 * $1) })
    }

    /// A voxel spacing: usually an ordinary value (0.25…8 mm), sometimes any double
    /// (zero, negative, NaN, huge) to reach the validation.
    mutating func spacing() -> Double {
        let b = byte()
        return b == 0xFF ? float64() : 0.25 + Double(b) / 32
    }

    /// The next `count` bytes (fewer at the end).
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(count, bytes.count - min(offset, bytes.count))
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    /// Everything not drawn yet.
    mutating func rest() -> UnsafeRawBufferPointer { take(.max) }

    /// `count` values filled run by run — a byte for the value, a byte for the run length —
    /// so that a few bytes make volumes with regions rather than noise.
    mutating func runs<T>(_ count: Int, _ value: (inout FuzzInput) -> T, zero: T) -> [T] {
        var out = [T](repeating: zero, count: count)
        var i = 0
        while i < count && !isEmpty {
            let v = value(&self)
            let n = Int(byte()) + 1
            for k in i..<min(count, i + n) { out[k] = v }
            i += n
        }
        return out
    }
}
