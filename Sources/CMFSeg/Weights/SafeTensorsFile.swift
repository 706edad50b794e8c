import FoundationEssentials
import Glibc

/// One safetensors file: named tensors (converted to `Float`) and the optional
/// `__metadata__` string→string map.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON header, then the raw
/// little-endian row-major data. Reading validates as the reference implementation does:
/// N ≤ 100 MB and within the file; the header is one JSON object without duplicate keys;
/// every tensor has a known dtype, a shape of non-negative integers and `data_offsets`
/// [begin, end]; sorted by offset, the ranges are contiguous from 0 with no holes or
/// overlaps and the last end is the end of the file; each size is elements × dtype size
/// (overflow checked). F32, F16, BF16 and U8 (label maps) are accepted; any other dtype is refused by name.
public struct SafeTensorsFile: Sendable {
    /// One tensor of the file, with the dtype it was stored in.
    public struct Entry: Sendable {
        public var name: String
        public var dtype: SafeTensorsDType
        public var tensor: Tensor

        public init(name: String, dtype: SafeTensorsDType = .f32, tensor: Tensor) {
            self.name = name
            self.dtype = dtype
            self.tensor = tensor
        }
    }

    /// Tensors in the order of their data in the file.
    public var entries: [Entry]
    public var metadata: [String: String]

    /// The reference implementation's limit on the JSON header.
    public static let maxHeaderBytes = 100_000_000

    public init(entries: [Entry], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor named `name`, if present.
    public subscript(name: String) -> Tensor? {
        entries.first { $0.name == name }?.tensor
    }

    /// Reads and validates a file.
    /// - Throws: `CMFError.io` if unreadable, `.format` for a damaged file, `.unsupported`
    ///   for a dtype other than F32/F16/BF16/U8, `.outOfMemory` beyond the process's
    ///   ``ResourceLimits``; every message names `path`.
    public static func read(path: String) throws -> SafeTensorsFile {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CMFError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CMFError.io("cannot read \(path): not a regular file")
        }
        if st.st_size == 0 {
            // Foundation leaks its read buffer on an empty file; nothing to read anyway.
            return try decode(UnsafeRawBufferPointer(start: nil, count: 0), source: path)
        }
        // Decoded tensors are float32: up to 4 bytes for each stored byte (U8), beside the file.
        try ResourceLimits.current().check(voxels: 0, bytes: 5 * Int(st.st_size), for: "loading \(path)")
        let data: Data
        do {
            // Read, not mapped: a file shortened by another process while mapped would stop
            // this one with SIGBUS instead of an error.
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CMFError.io("cannot read \(path): \(CMFError.reason(error))")
        }
        return try data.withUnsafeBytes { try decode($0, source: path) }
    }

    /// Validates and decodes the bytes of a whole file; `source` names it in errors.
    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else {
            throw CMFError.format("\(source): not a safetensors file (\(bytes.count) bytes, shorter than the 8-byte header length)")
        }
        let n64 = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard n64 <= UInt64(maxHeaderBytes) else {
            throw CMFError.format("\(source): safetensors header length \(n64) exceeds the 100 MB limit (damaged or not a safetensors file)")
        }
        let n = Int(n64)
        guard n <= bytes.count - 8 else {
            throw CMFError.format("\(source): safetensors header length \(n) runs past the end of the file (\(bytes.count) bytes; truncated?)")
        }
        let header = Array(bytes[8..<(8 + n)])
        let json = try HeaderJSON.parse(header, source: source)
        guard case .object(let members) = json else {
            throw CMFError.format("\(source): safetensors header is not a JSON object")
        }
        let dataStart = 8 + n
        let dataLength = bytes.count - dataStart

        var metadata: [String: String] = [:]
        struct Info { var name: String; var dtype: SafeTensorsDType; var shape: [Int]; var count: Int; var begin: Int; var end: Int }
        var infos: [Info] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw CMFError.format("\(source): __metadata__ must be an object of strings")
                }
                for (k, v) in pairs {
                    guard case .string(let s) = v else {
                        throw CMFError.format("\(source): __metadata__ value of \"\(k)\" is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw CMFError.format("\(source): tensor \"\(name)\": description is not an object")
            }
            func field(_ key: String) -> HeaderJSON? { fields.first { $0.0 == key }?.1 }
            guard case .string(let dt)? = field("dtype") else {
                throw CMFError.format("\(source): tensor \"\(name)\": missing or non-string dtype")
            }
            guard let dtype = SafeTensorsDType(rawValue: dt) else {
                if SafeTensorsDType.knownUnsupported.contains(dt) {
                    throw CMFError.unsupported("\(source): tensor \"\(name)\" has dtype \(dt); cmfseg reads F32, F16, BF16 and U8 only")
                }
                throw CMFError.format("\(source): tensor \"\(name)\" has unknown dtype \"\(dt)\"")
            }
            guard case .array(let shapeValues)? = field("shape") else {
                throw CMFError.format("\(source): tensor \"\(name)\": missing shape")
            }
            var shape: [Int] = []
            var count = 1
            for s in shapeValues {
                guard case .integer(let v) = s, v >= 0 else {
                    throw CMFError.format("\(source): tensor \"\(name)\": shape entries must be non-negative integers")
                }
                let (m, o) = count.multipliedReportingOverflow(by: v)
                guard !o else { throw CMFError.format("\(source): tensor \"\(name)\": shape \(shapeValues.count)-D overflows") }
                shape.append(v)
                count = m
            }
            guard case .array(let off)? = field("data_offsets"), off.count == 2,
                  case .integer(let begin) = off[0], case .integer(let end) = off[1], begin >= 0, end >= begin else {
                throw CMFError.format("\(source): tensor \"\(name)\": data_offsets must be [begin, end] with 0 <= begin <= end")
            }
            let (bytesNeeded, o) = count.multipliedReportingOverflow(by: dtype.size)
            guard !o, bytesNeeded == end - begin else {
                throw CMFError.format("\(source): tensor \"\(name)\": shape \(shape) × \(dtype.rawValue) needs \(o ? "too many" : String(bytesNeeded)) bytes, data_offsets give \(end - begin)")
            }
            infos.append(Info(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end))
        }
        infos.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for info in infos {
            guard info.begin == expected else {
                let what = info.begin < expected ? "overlaps the previous tensor" : "leaves a hole before it"
                throw CMFError.format("\(source): tensor \"\(info.name)\" data_offsets [\(info.begin), \(info.end)] \(what) (expected begin \(expected))")
            }
            expected = info.end
        }
        guard expected == dataLength else {
            throw CMFError.format("\(source): tensor data ends at \(expected) but the file has \(dataLength) data bytes (truncated or trailing bytes)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        let entries = infos.map { info in
            Entry(name: info.name, dtype: info.dtype,
                  tensor: Tensor(shape: info.shape,
                                 storage: info.dtype.decode(UnsafeRawBufferPointer(rebasing: data[info.begin..<info.end]), count: info.count)))
        }
        return SafeTensorsFile(entries: entries, metadata: metadata)
    }

    /// The complete file bytes: header (metadata first, tensors in `entries` order, padded
    /// with spaces to a multiple of 8 as the reference writer does) and data.
    /// - Throws: `CMFError.invalidArgument` for duplicate or empty names or the reserved
    ///   name `__metadata__`.
    public func encoded() throws -> [UInt8] {
        var names = Set<String>()
        for e in entries {
            guard !e.name.isEmpty, e.name != "__metadata__", names.insert(e.name).inserted else {
                throw CMFError.invalidArgument("cannot write tensor name \"\(e.name)\" (empty, reserved or duplicate)")
            }
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(HeaderJSON.quoted($0)):\(HeaderJSON.quoted(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let size = e.tensor.count * e.dtype.size
            let shape = e.tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(HeaderJSON.quoted(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        var n = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for e in entries { e.tensor.storage.withUnsafeBufferPointer { e.dtype.encode($0, into: &out) } }
        return out
    }

    /// Writes the file atomically (a temporary file in the same directory, then rename):
    /// on failure nothing is left at `path`.
    /// - Throws: `CMFError.io` naming `path`.
    public func write(to path: String) throws {
        let bytes = try encoded()
        try AtomicFile.write([(path: path, content: .bytes(bytes))])
    }
}
