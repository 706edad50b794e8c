/// The element types cmfseg reads from safetensors files; all are converted to `Float`.
/// U8 holds label maps (class indices for training and gradient checks), never weights.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case u8 = "U8"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .u8: return 1
        }
    }

    /// safetensors dtypes that exist but cmfseg refuses (named in the error).
    static let knownUnsupported: Set<String> = [
        "F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "BOOL",
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    ]

    /// Little-endian bytes → Float.
    func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        switch self {
        case .f32:
            #if _endian(little)
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(4 * count)])) }
            #else
            for k in 0..<count {
                out[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
            }
            #endif
        case .f16:
            for k in 0..<count {
                out[k] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))))
            }
        case .bf16:
            for k in 0..<count {
                let b = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
                out[k] = Float(bitPattern: UInt32(b) << 16)
            }
        case .u8:
            for k in 0..<count { out[k] = Float(raw[k]) }
        }
        return out
    }

    /// Float → little-endian bytes (F16: IEEE rounding to nearest even; BF16: round to
    /// nearest even on the upper 16 bits, NaN kept NaN).
    func encode(_ values: UnsafeBufferPointer<Float>, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + values.count * size)
        switch self {
        case .f32:
            #if _endian(little)
            out.append(contentsOf: UnsafeRawBufferPointer(values))
            #else
            for v in values { appendLE(v.bitPattern, &out) }
            #endif
        case .f16:
            for v in values { appendLE(Float16(v).bitPattern, &out) }
        case .bf16:
            for v in values {
                let bits = v.bitPattern
                let b: UInt16 = v.isNaN ? UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
                    : UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
                appendLE(b, &out)
            }
        case .u8:
            for v in values { out.append(UInt8(clamping: Int(v.rounded()))) }
        }
    }
}

private func appendLE<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
    var x = v.littleEndian
    withUnsafeBytes(of: &x) { out.append(contentsOf: $0) }
}
