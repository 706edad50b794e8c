import FoundationEssentials
import Glibc
import Synchronization

/// Caps on what one call may take, checked before its work starts.
///
/// Swift stops the process when an allocation fails, and the kernel's OOM killer stops it
/// when memory runs out later: either way a scanner-side host dies. So every call that
/// allocates in proportion to its input estimates its need first (reading a volume, a
/// segmentation, an evaluation) and refuses, with `CMFError.outOfMemory` naming the need
/// and the cap, what exceeds the limits.
///
/// The limits come from, in order: the call's parameters (C `max_voxels` / `max_bytes`,
/// CLI `--max-voxels` / `--max-memory`), the environment (`CMFSEG_MAX_VOXELS`,
/// `CMFSEG_MAX_MEMORY`), the built-in defaults (512³ voxels; the memory of the machine or
/// of the container's cgroup, whichever is smaller).
public struct ResourceLimits: Equatable, Sendable {
    /// Voxels of one image grid.
    public var maxVoxels: Int
    /// Bytes one call may allocate, compared with the call's estimate of its need.
    public var maxBytes: Int

    public init(maxVoxels: Int, maxBytes: Int) {
        self.maxVoxels = maxVoxels
        self.maxBytes = maxBytes
    }

    public static let voxelsVariable = "CMFSEG_MAX_VOXELS"
    public static let memoryVariable = "CMFSEG_MAX_MEMORY"

    /// 512³ voxels (15 times a BraTS grid) and the memory this process can have.
    public static let builtIn = ResourceLimits(maxVoxels: 512 * 512 * 512, maxBytes: availableMemory())

    private static let override = Mutex<ResourceLimits?>(nil)

    /// The process's limits: those set by ``setProcessDefault(_:)``, else the environment's,
    /// else ``builtIn``.
    /// - Throws: `CMFError.invalidArgument` for an environment value that is not a count.
    public static func current() throws -> ResourceLimits {
        if let set = override.withLock({ $0 }) { return set }
        var limits = builtIn
        let env = ProcessInfo.processInfo.environment
        if let text = env[voxelsVariable] { limits.maxVoxels = try parse(text, name: voxelsVariable, sizes: false) }
        if let text = env[memoryVariable] { limits.maxBytes = try parse(text, name: memoryVariable, sizes: true) }
        return limits
    }

    /// Replaces the process's limits (the CLI's flags); nil returns to the environment's.
    public static func setProcessDefault(_ limits: ResourceLimits?) {
        override.withLock { $0 = limits }
    }

    /// The limits of one call: positive overrides replace the process's limits.
    /// - Throws: `CMFError.invalidArgument` for a negative override, and as ``current()``.
    public static func forCall(maxVoxels: Int, maxBytes: Int) throws -> ResourceLimits {
        guard maxVoxels >= 0, maxBytes >= 0 else {
            throw CMFError.invalidArgument("max_voxels (\(maxVoxels)) and max_bytes (\(maxBytes)) must be >= 0; 0 means the process's limits")
        }
        var limits = try current()
        if maxVoxels > 0 { limits.maxVoxels = maxVoxels }
        if maxBytes > 0 { limits.maxBytes = maxBytes }
        return limits
    }

    /// - Throws: `CMFError.outOfMemory` when `voxels` or `bytes` exceed the limits; the
    ///   message says what needed them, how much, the cap and how to change it.
    public func check(voxels: Int, bytes: Int, for what: String) throws {
        if voxels > maxVoxels {
            throw CMFError.outOfMemory("\(what): \(voxels) voxels exceed the limit of \(maxVoxels) (raise it with \(Self.voxelsVariable), --max-voxels or max_voxels)")
        }
        if bytes > maxBytes {
            throw CMFError.outOfMemory("\(what) needs about \(Self.describe(bytes: bytes)), more than the memory limit of \(Self.describe(bytes: maxBytes)) (raise it with \(Self.memoryVariable), --max-memory or max_bytes)")
        }
    }

    /// A count of voxels or bytes: digits, for bytes optionally followed by K, M, G or T
    /// (powers of 1024, with or without "iB"/"B"), e.g. "8G", "512MiB", "1073741824".
    /// - Throws: `CMFError.invalidArgument` naming `name` for anything else or zero.
    public static func parse(_ text: String, name: String, sizes: Bool) throws -> Int {
        let t = text.filter { !$0.isWhitespace }
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        var unit = t.dropFirst(digits.count).uppercased()
        if unit.hasSuffix("IB") { unit.removeLast(2) } else if unit.hasSuffix("B") { unit.removeLast() }
        let shifts: [String: Int] = ["": 0, "K": 10, "M": 20, "G": 30, "T": 40]
        guard let n = Int(digits), n > 0, let shift = shifts[unit], sizes || shift == 0,
              n <= Int.max >> shift else {
            let example = sizes ? "a byte count such as 8G, 512M or 1073741824" : "a positive voxel count such as 134217728"
            throw CMFError.invalidArgument("\(name)=\(text) is not \(example)")
        }
        return n << shift
    }

    /// "512 MiB", "3.1 GiB": what messages show.
    public static func describe(bytes: Int) -> String {
        if bytes < 1 << 30 { return "\((bytes + (1 << 19)) >> 20) MiB" }
        let tenths = (bytes / (1 << 20) * 10 + 512) / 1024
        return "\(tenths / 10).\(tenths % 10) GiB"
    }

    /// Physical memory, or the cgroup's limit when a container sets a smaller one.
    static func availableMemory() -> Int {
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = Int(text.filter { !$0.isWhitespace }), limit > 0 {
                return min(physical, limit)
            }
        }
        return physical
    }
}
