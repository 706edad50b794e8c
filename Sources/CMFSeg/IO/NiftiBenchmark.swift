import CCMFKernels
import CNifti
import Dispatch
import FoundationEssentials

/// Times the ways of reading a NIfTI file, for `cmfseg bench-nifti`: nifticlib's own
/// reader (znz/zlib streaming) against cmfseg's (whole file, libdeflate, C converters).
public enum NiftiBenchmark {
    public struct Row: Sendable {
        public var name: String
        /// Median and best wall time in milliseconds, and the first run's (cold memory).
        public var medianMs: Double, bestMs: Double, firstMs: Double
    }

    /// Reads `path` `repeats` times each way and reports per-way times.
    /// - Throws: `CMFError` when the file cannot be read by cmfseg or nifticlib.
    public static func run(_ path: String, repeats: Int) throws -> [Row] {
        let header = try Nifti.readHeader(path)
        Nifti.quietNifticlib()
        func time(_ name: String, _ body: () throws -> Void) rethrows -> Row {
            var times: [Double] = []
            for _ in 0..<max(1, repeats) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            let first = times[0]
            times.sort()
            return Row(name: name, medianMs: times[times.count / 2], bestMs: times[0], firstMs: first)
        }
        var rows: [Row] = []
        rows.append(try time("nifticlib nifti_image_read (znz) + convert to float") {
            guard let nim = nifti_image_read(path, 1) else { throw CMFError.format("nifticlib cannot read \(path)") }
            defer { nifti_image_free(nim) }
            var out = [Float](repeating: 0, count: header.shape.count)
            _ = cmfk_convert_f32(nim.pointee.data, header.datatype.rawValue, Int64(header.shape.count), 0, 1, 0, &out)
        })
        rows.append(try time("cmfseg read file only") { _ = try FileBytes.readAll(header.dataPath) })
        if header.compressed || FileBytes.hasGzipMagic(header.dataPath) {
            let raw = try FileBytes.readAll(header.dataPath)
            let n = header.voxOffset + header.dataByteCount
            rows.append(time("cmfseg inflate only (libdeflate)") { _ = FileBytes.inflate(raw, expected: n) })
            rows.append(time("zlib streaming inflate only") {
                var out = [UInt8](repeating: 0, count: n)
                _ = FileBytes.streamInflateForBenchmark(raw, into: &out, expected: n)
            })
        }
        rows.append(try time("cmfseg Nifti.readHeader") { _ = try Nifti.readHeader(path) })
        rows.append(try time("cmfseg Nifti.readImage (float)") { _ = try Nifti.readImage(path) })
        if (try? Nifti.readLabels(path)) != nil {
            rows.append(try time("cmfseg Nifti.readLabels (uint8)") { _ = try Nifti.readLabels(path) })
        }
        // Writing what was read, to a scratch directory, both datatypes, gzip.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cmfseg-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Nifti.readImage(path)
        rows.append(try time("cmfseg Nifti.write float32 .nii.gz") {
            try Nifti.write(image, to: dir.appendingPathComponent("f.nii.gz").path)
        })
        if let labels = try? image.labelMap() {
            rows.append(try time("cmfseg Nifti.write uint8 .nii.gz") {
                try Nifti.write(labels, to: dir.appendingPathComponent("l.nii.gz").path)
            })
            rows.append(try time("nifticlib nifti_image_write uint8 .nii.gz") {
                guard let nim = nifti_image_read(path, 1) else { throw CMFError.format("nifticlib cannot read \(path)") }
                defer { nifti_image_free(nim) }
                let out = dir.appendingPathComponent("n.nii.gz").path
                guard nifti_set_filenames(nim, out, 0, 1) == 0 else { throw CMFError.internal("nifti_set_filenames failed") }
                nifti_image_write(nim)
            })
        }
        return rows
    }
}
