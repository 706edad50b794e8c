import CCMFKernels
import FoundationEssentials

/// What `cmfseg info` shows about a NIfTI file: the header's facts, the intensity range
/// and, for integer images with at most 256 distinct values, a label histogram.
public struct NiftiSummary: Codable, Sendable {
    public struct LabelCount: Codable, Sendable, Equatable {
        public var value: Int64
        public var count: Int
    }
    public struct Range: Codable, Sendable, Equatable {
        /// Smallest and largest finite value after scaling (nil when there is none).
        public var min: Double?, max: Double?
        /// Voxels holding NaN or ±infinity.
        public var nonFinite: Int
    }

    public var file: String
    public var dataFile: String
    /// "NIfTI-1" or "NIfTI-2".
    public var format: String
    /// "single file" or "header + image pair".
    public var layout: String
    public var compressed: Bool
    public var byteOrder: String
    public var dims: [Int]
    public var voxels: Int
    public var datatype: String
    public var spacing: [Double]
    public var xyztUnits: Int32
    public var qformCode: Int32
    public var sformCode: Int32
    /// The voxel-to-world affine readers use (sform, else qform, else scaling), 4 rows.
    public var affine: [[Double]]
    public var qform: [[Double]]
    public var sform: [[Double]]
    /// The scaling applied on read.
    public var sclSlope: Double
    public var sclInter: Double
    public var description: String
    public var intensity: Range
    /// Value → voxel count, ascending; nil for float data or more than 256 distinct values.
    public var labels: [LabelCount]?

    /// Reads and summarises a NIfTI file.
    /// - Throws: as ``Nifti/readImage(_:)``.
    public static func of(_ path: String) throws -> NiftiSummary {
        let h = try Nifti.readHeader(path)
        let g = h.geometry
        func rows(_ m: [Double]) -> [[Double]] { stride(from: 0, to: 16, by: 4).map { Array(m[$0..<$0 + 4]) } }
        let (slope, inter) = h.scaling
        // Statistics from the stored values in double precision (exact for int32/int64).
        var lo = 0.0, hi = 0.0, bad: Int64 = 0
        var labels: [LabelCount]?
        try Nifti.withVoxelData(h) { src, swap in
            let n = Int64(h.shape.count), dt = h.datatype.rawValue, sw: Int32 = swap ? 1 : 0
            cmfk_minmax_raw(src, dt, n, sw, slope, inter, &lo, &hi, &bad)
            guard h.datatype.isInteger else { return }
            labels = histogram(count: h.shape.count) { dst in
                cmfk_convert_u8(src, dt, n, sw, slope, inter, dst) < 0
            } values: { i in
                cmfk_load_double(src, dt, Int64(i), sw) * slope + inter
            }
        }
        let finite = lo <= hi
        return NiftiSummary(
            file: h.path, dataFile: h.dataPath, format: "NIfTI-\(h.version)",
            layout: h.isPair ? "header + image pair" : "single file", compressed: h.compressed,
            byteOrder: h.byteSwapped ? "big-endian" : "little-endian",
            dims: [h.shape.nx, h.shape.ny, h.shape.nz], voxels: h.shape.count, datatype: h.datatype.name,
            spacing: [g.spacing.x, g.spacing.y, g.spacing.z], xyztUnits: g.xyztUnits,
            qformCode: g.qformCode, sformCode: g.sformCode,
            affine: rows(g.affine), qform: rows(g.qform), sform: rows(g.sform),
            sclSlope: slope, sclInter: inter, description: h.descrip,
            intensity: Range(min: finite ? lo : nil, max: finite ? hi : nil, nonFinite: Int(bad)),
            labels: labels)
    }

    /// Counts per value when every voxel is an integer and there are at most 256 values.
    /// - Parameters:
    ///   - asBytes: converts all voxels to uint8 labels, false if some are not in 0...255.
    ///   - values: voxel i as a double (the slow path, for other integers).
    static func histogram(count: Int, asBytes: (UnsafeMutablePointer<UInt8>) -> Bool,
                          values: (Int) -> Double) -> [LabelCount]? {
        var bytes = [UInt8](repeating: 0, count: count)
        if bytes.withUnsafeMutableBufferPointer({ asBytes($0.baseAddress!) }) {
            var counts = [Int](repeating: 0, count: 256)
            bytes.withUnsafeBufferPointer { for v in $0 { counts[Int(v)] += 1 } }
            return counts.indices.filter { counts[$0] > 0 }.map { LabelCount(value: Int64($0), count: counts[$0]) }
        }
        var counts: [Double: Int] = [:]
        for i in 0..<count {
            let v = values(i)
            guard v.isFinite, v == v.rounded(), abs(v) < 9.2e18 else { return nil }
            counts[v, default: 0] += 1
            if counts.count > 256 { return nil }
        }
        return counts.keys.sorted().map { LabelCount(value: Int64($0), count: counts[$0]!) }
    }

    /// Names of NIfTI xform codes.
    public static func xformName(_ code: Int32) -> String {
        switch code {
        case 0: return "unknown"
        case 1: return "scanner anatomical"
        case 2: return "aligned anatomical"
        case 3: return "Talairach"
        case 4: return "MNI152"
        case 5: return "template other"
        default: return "non-standard"
        }
    }

    /// The human-readable form `cmfseg info` prints.
    public var text: String {
        func n(_ v: Double) -> String { Nifti.formatValue(v) }
        func matrix(_ m: [[Double]]) -> [String] {
            let cells = m.map { $0.map { String(cFormat: "%.6g", $0 == 0 ? 0 : $0) } }
            let width = cells.flatMap { $0 }.map(\.count).max() ?? 1
            return cells.map { "[ " + $0.map { String(repeating: " ", count: width - $0.count) + $0 }.joined(separator: "  ") + " ]" }
        }
        var lines: [String] = []
        func add(_ key: String, _ value: String) { lines.append(key.padded(toWidth: 12) + value) }
        add("file", file)
        if dataFile != file { add("data file", dataFile) }
        add("format", "\(format), \(layout)\(compressed ? ", gzip" : ""), \(byteOrder)")
        add("dims", "\(dims.map(String.init).joined(separator: " × ")) (\(voxels) voxels)")
        add("datatype", datatype)
        add("spacing", spacing.map { String(cFormat: "%.6g", $0) }.joined(separator: " × ") + " mm")
        add("qform", "code \(qformCode) (\(Self.xformName(qformCode)))")
        add("sform", "code \(sformCode) (\(Self.xformName(sformCode)))")
        for (i, row) in matrix(affine).enumerated() { add(i == 0 ? "affine" : "", row) }
        add("scaling", sclSlope == 1 && sclInter == 0 ? "none" : "value × \(n(sclSlope)) \(sclInter < 0 ? "-" : "+") \(n(abs(sclInter)))")
        if !description.isEmpty { add("description", "\"\(description)\"") }
        if let lo = intensity.min, let hi = intensity.max {
            add("intensity", "\(n(lo)) ... \(n(hi))" + (intensity.nonFinite > 0 ? ", \(intensity.nonFinite) non-finite voxels" : ""))
        } else {
            add("intensity", "no finite values (\(intensity.nonFinite) non-finite voxels)")
        }
        if let labels {
            let shown = labels.prefix(32).map { "\($0.value): \($0.count)" }.joined(separator: ", ")
            add("labels", labels.count > 32 ? shown + ", … (\(labels.count) values; --json lists all)" : shown)
        } else if NiftiDatatype.allCases.contains(where: { $0.name == datatype && $0.isInteger }) {
            add("labels", "no histogram (not integers after scaling, or more than 256 values)")
        }
        return lines.joined(separator: "\n")
    }

    /// The JSON form (`cmfseg info --json`), keys sorted.
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}
