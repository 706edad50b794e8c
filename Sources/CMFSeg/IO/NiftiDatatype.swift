/// The NIfTI voxel datatypes cmfseg reads (NIfTI `datatype` codes). Others — complex, RGB,
/// float128, binary — are rejected with `CMFError.format`.
public enum NiftiDatatype: Int32, CaseIterable, Sendable, Codable {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280

    /// Bytes per voxel.
    public var size: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// True for the integer types (the ones whose images can be label maps).
    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// The usual lower-case name ("uint8", "float32", ...).
    public var name: String { "\(self)" }

    /// A readable name for any NIfTI datatype code, supported or not.
    public static func describe(code: Int32) -> String {
        if let known = NiftiDatatype(rawValue: code) { return known.name }
        let others: [Int32: String] = [
            0: "unknown", 1: "binary", 32: "complex64", 128: "rgb24", 1536: "float128",
            1792: "complex128", 2048: "complex256", 2304: "rgba32",
        ]
        return others[code].map { "\(code) (\($0))" } ?? "\(code)"
    }
}
