import CMFSeg
import CMFSegABI
import Glibc

/// The thread-local last-error message behind `cmf_last_error_message`, and the one place
/// that turns Swift errors into `cmf_status` codes.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor frees the message buffer when its thread exits.
        pthread_key_create(&key) { free($0) }
        return key
    }()

    nonisolated(unsafe) static let empty: UnsafePointer<CChar> = UnsafePointer(strdup("")!)

    /// The calling thread's message ("" when none).
    static var current: UnsafePointer<CChar> {
        guard let p = pthread_getspecific(key) else { return empty }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    /// Records `error` as the thread's message and returns its status code.
    static func record(_ error: Error) -> cmf_status {
        guard let e = error as? CMFError else {
            set("internal error: \(error)")
            return CMF_ERR_INTERNAL
        }
        set(e.message)
        switch e {
        case .invalidArgument: return CMF_ERR_INVALID_ARGUMENT
        case .io: return CMF_ERR_IO
        case .format: return CMF_ERR_FORMAT
        case .shape: return CMF_ERR_SHAPE
        case .outOfMemory: return CMF_ERR_OUT_OF_MEMORY
        case .aborted: return CMF_ERR_ABORTED
        case .unsupported: return CMF_ERR_UNSUPPORTED
        case .internal: return CMF_ERR_INTERNAL
        }
    }
}

/// Runs the body of an exported function: every Swift error becomes a status code and a
/// thread-local message, so no error crosses the C boundary.
func guarded(_ body: () throws -> Void) -> cmf_status {
    do {
        try body()
        return CMF_OK
    } catch {
        return LastError.record(error)
    }
}

/// Unwraps a pointer argument or throws the uniform "NULL argument" error.
func required<T>(_ pointer: T?, _ name: String, in function: String) throws -> T {
    guard let pointer else { throw CMFError.invalidArgument("\(function): \(name) is NULL") }
    return pointer
}

/// Reads a C path argument.
func path(_ pointer: UnsafePointer<CChar>?, _ name: String, in function: String) throws -> String {
    let p = try required(pointer, name, in: function)
    let s = String(cString: p)
    guard !s.isEmpty else { throw CMFError.invalidArgument("\(function): \(name) is empty") }
    return s
}

/// Validates a caller's grid: dims >= 1 and within the library's limits, spacing positive
/// and finite. Too large a grid is `tooLarge` (out of memory when the library would
/// allocate it, an invalid argument when the caller already holds the voxels).
func grid(_ nx: Int64, _ ny: Int64, _ nz: Int64, spacing: UnsafePointer<Double>?,
          tooLarge: (String) -> CMFError, in function: String) throws -> (Shape3, SIMD3<Double>) {
    let spacing = try required(spacing, "spacing", in: function)
    guard nx >= 1, ny >= 1, nz >= 1 else {
        throw CMFError.invalidArgument("\(function): dims \(nx)×\(ny)×\(nz) must all be >= 1")
    }
    let maxAxis = Int64(NiftiLimits.maxAxis)
    guard nx <= maxAxis, ny <= maxAxis, nz <= maxAxis, nx * ny * nz <= Int64(NiftiLimits.maxVoxels) else {
        throw tooLarge("\(function): dims \(nx)×\(ny)×\(nz) exceed the limits (\(maxAxis) per axis, \(NiftiLimits.maxVoxels) voxels)")
    }
    let s = SIMD3(spacing[0], spacing[1], spacing[2])
    for i in 0..<3 where !(s[i].isFinite && s[i] > 0) {
        throw CMFError.invalidArgument("\(function): spacing[\(i)] = \(s[i]) must be a positive finite number")
    }
    return (Shape3(Int(nx), Int(ny), Int(nz)), s)
}

// The one struct_size rule of the C API, for params (read) and results (written) alike:
// the caller's struct starts with `uint32_t struct_size` = sizeof as it was compiled; the
// library touches only its first min(struct_size, the library's own size) bytes, so an
// older, shorter struct and a newer, longer one both work. Less than the field itself is
// an error.

/// The caller's struct_size, checked to cover at least the field itself.
func structSize(_ pointer: UnsafeRawPointer, _ what: String, in function: String) throws -> Int {
    let size = Int(pointer.load(as: UInt32.self))
    guard size >= MemoryLayout<UInt32>.size else {
        throw CMFError.invalidArgument("\(function): \(what)->struct_size is \(size); set it to sizeof the struct")
    }
    return size
}

/// A caller's params struct read over `defaults` (fields it does not have keep their
/// defaults). NULL gives the defaults.
func readParams<T>(_ pointer: UnsafePointer<T>?, over defaults: T, _ name: String, in function: String) throws -> T {
    var result = defaults
    guard let pointer else { return result }
    let size = try structSize(UnsafeRawPointer(pointer), "params", in: function)
    withUnsafeMutableBytes(of: &result) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: min(size, dst.count)))
    }
    return result
}

/// Writes `value` into the caller's result struct of `size` bytes (as `structSize` read
/// it): the fields that fit, struct_size itself kept as the caller set it.
func writeResult<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, size: Int) {
    var local = value
    withUnsafeMutableBytes(of: &local) { src in
        src.storeBytes(of: UInt32(size), as: UInt32.self)
        UnsafeMutableRawPointer(pointer).copyMemory(from: src.baseAddress!, byteCount: min(size, src.count))
    }
}

/// The reserved tail of the params structs (cmf_segment_params: its first 7): zeros, as the
/// defaults leave it.
typealias ReservedFields = (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)
let noReservedFields: ReservedFields = (0, 0, 0, 0, 0, 0, 0, 0)

/// Refuses non-zero reserved space: a later version gives it meaning, so garbage there
/// would silently change behaviour then.
func requireZero<Fields>(_ reserved: Fields, in function: String) throws {
    let values = withUnsafeBytes(of: reserved) { Array($0.bindMemory(to: Int64.self)) }
    if let i = values.firstIndex(where: { $0 != 0 }) {
        throw CMFError.invalidArgument("\(function): params->reserved[\(i)] is \(values[i]); reserved space must be zero (start from the *_default_params() values)")
    }
}
