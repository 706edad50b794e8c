import CMFSegABI
import Foundation
import TestSupport
import XCTest

/// cmf_model_* and cmf_segment* through the public header, with the M2G fixture weights
/// (random: these tests check mechanics, not accuracy).
final class SegmentTests: XCTestCase {
    static let (nx, ny, nz) = (48, 40, 36)
    nonisolated(unsafe) static var sharedModel: OpaquePointer?

    static func model() throws -> OpaquePointer {
        if let m = sharedModel { return m }
        let paths = SyntheticCase.m2gWeights.map { strdup($0) }
        defer { paths.forEach { free($0) } }
        var ptrs = paths.map { UnsafePointer<CChar>($0) }
        var model: OpaquePointer?
        let rc = ptrs.withUnsafeMutableBufferPointer { cmf_model_load($0.baseAddress, 3, &model) }
        guard rc == CMF_OK, let model else {
            throw NSError(domain: "cmf", code: Int(rc.rawValue), userInfo: [NSLocalizedDescriptionKey: String(cString: cmf_last_error_message())])
        }
        sharedModel = model
        return model
    }

    static func volume(_ m: Int, nanAt: Int? = nil, shape: (Int, Int, Int)? = nil) -> OpaquePointer? {
        let (x, y, z) = shape ?? (Self.nx, Self.ny, Self.nz)
        var data = SyntheticCase.voxels(m, nx: x, ny: y, nz: z)
        if let nanAt { data[nanAt] = .nan }
        var v: OpaquePointer?
        let spacing = [1.0, 1.0, 1.0]
        XCTAssertEqual(cmf_volume_create(Int64(x), Int64(y), Int64(z), spacing, data, &v), CMF_OK)
        return v
    }

    func params(patch: Int32 = 32) -> cmf_segment_params {
        var p = cmf_segment_default_params()
        p.patch = (patch, patch, patch)
        return p
    }

    func testDefaultParamsAndModelQueries() throws {
        let p = cmf_segment_default_params()
        XCTAssertEqual(Int(p.struct_size), MemoryLayout<cmf_segment_params>.size)
        XCTAssertEqual(p.overlap, 0.5)
        XCTAssertEqual(p.postprocess, 1)
        XCTAssertEqual(p.min_et_voxels, 500)
        XCTAssertEqual(p.min_core_voxels, 10)
        XCTAssertEqual(p.connectivity, 6)
        XCTAssertEqual(p.grouping_dilation, 2)
        XCTAssertEqual(p.min_component_fraction, Float(1.0 / 3))
        XCTAssertEqual(p.small_et_to_ncr, 0)
        XCTAssertEqual(p.tta, 0)
        XCTAssertNil(p.progress)
        XCTAssertNil(p.cancel)
        let m = try Self.model()
        XCTAssertEqual(String(cString: cmf_model_architecture(m)!), "cmff-m2g")
        XCTAssertEqual(cmf_model_class_count(m), 4)
        XCTAssertNil(cmf_model_architecture(nil))
        XCTAssertEqual(cmf_model_class_count(nil), 0)
        cmf_model_free(nil)
    }

    func testDefaultModelLoads() throws {
        var m: OpaquePointer?
        XCTAssertEqual(cmf_model_load_default(&m), CMF_OK, String(cString: cmf_last_error_message()))
        defer { cmf_model_free(m) }
        XCTAssertEqual(String(cString: try XCTUnwrap(cmf_model_architecture(m))), "cmff-m2g")
        XCTAssertEqual(cmf_model_class_count(m), 4)
        XCTAssertEqual(cmf_model_load_default(nil), CMF_ERR_INVALID_ARGUMENT)
        // its metadata: keys in byte order, the provenance among them
        let count = cmf_model_metadata_count(m)
        let keys = (0..<count).map { String(cString: cmf_model_metadata_key(m, $0)!) }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertNil(cmf_model_metadata_key(m, count))
        for key in ["training_command", "training_steps", "validation_dice", "class_values", "pairs"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertEqual(String(cString: try XCTUnwrap(cmf_model_metadata(m, "architecture"))), "cmff-m2g")
        XCTAssertEqual(String(cString: try XCTUnwrap(cmf_model_metadata(m, "pairs"))), "t1,t1ce|t2,flair")
        XCTAssertNil(cmf_model_metadata(m, "no such key"))
        XCTAssertNil(cmf_model_metadata(m, nil))
        XCTAssertNil(cmf_model_metadata(nil, "architecture"))
        XCTAssertEqual(cmf_model_metadata_count(nil), 0)
    }

    func testLogCallbackReceivesTheLibrarysNotes() throws {
        final class Notes: @unchecked Sendable {
            let lock = NSLock()
            var messages: [String] = []
        }
        let notes = Notes()
        cmf_set_log_callback({ level, message, user in
            let box = Unmanaged<Notes>.fromOpaque(user!).takeUnretainedValue()
            box.lock.lock(); defer { box.lock.unlock() }
            box.messages.append("\(level == CMF_LOG_NOTE ? "note" : "?"): \(String(cString: message!))")
        }, Unmanaged.passUnretained(notes).toOpaque())
        defer { cmf_set_log_callback(nil, nil) }
        // a fresh load of the raw PyTorch export (the shared model was loaded before the callback)
        let paths = SyntheticCase.m2gWeights.map { strdup($0) }
        defer { paths.forEach { free($0) } }
        var ptrs = paths.map { UnsafePointer<CChar>($0) }
        var m: OpaquePointer?
        XCTAssertEqual(ptrs.withUnsafeMutableBufferPointer { cmf_model_load($0.baseAddress, 3, &m) }, CMF_OK)
        cmf_model_free(m)
        notes.lock.lock(); defer { notes.lock.unlock() }
        XCTAssertTrue(notes.messages.contains { $0.hasPrefix("note: ") && $0.contains("inferred from tensor names") }, "\(notes.messages)")
    }

    func testLoaderNotesOfARawExport() throws {
        // the PyTorch fixtures carry no metadata: the loader says what it inferred
        let m = try Self.model()
        let notes = (0..<cmf_model_note_count(m)).map { String(cString: cmf_model_note(m, $0)!) }
        XCTAssertTrue(notes.contains { $0.contains("inferred from tensor names") }, "\(notes)")
        XCTAssertNil(cmf_model_note(m, notes.count))
        XCTAssertEqual(cmf_model_note_count(nil), 0)
        XCTAssertNil(cmf_model_note(nil, 0))
    }

    func testBadModelFilesAreErrors() throws {
        var m: OpaquePointer?
        var none: [UnsafePointer<CChar>?] = []
        XCTAssertEqual(none.withUnsafeMutableBufferPointer { cmf_model_load($0.baseAddress, 0, &m) }, CMF_ERR_INVALID_ARGUMENT)
        let disc = strdup(Fixtures.path("pytorch/disc_dx5.safetensors"))
        defer { free(disc) }
        var one = [UnsafePointer<CChar>(disc)]
        XCTAssertEqual(one.withUnsafeMutableBufferPointer { cmf_model_load($0.baseAddress, 1, &m) }, CMF_ERR_UNSUPPORTED)
        XCTAssertNil(m)
    }

    func testSegmentsAllFourAndOnePair() throws {
        let m = try Self.model()
        let vols = (0..<4).map { Self.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        var p = params()
        var labels: OpaquePointer?
        var probs = [OpaquePointer?](repeating: nil, count: 4)
        var info = cmf_segment_info()
        info.struct_size = UInt32(MemoryLayout<cmf_segment_info>.size)
        XCTAssertEqual(cmf_segment(m, vols[0], vols[1], vols[2], vols[3], &p, &labels, &probs, &info), CMF_OK,
                       String(cString: cmf_last_error_message()))
        defer { cmf_volume_free(labels); probs.forEach { cmf_volume_free($0) } }
        var dims = [Int64](repeating: 0, count: 3)
        XCTAssertEqual(cmf_volume_dims(labels, &dims), CMF_OK)
        XCTAssertEqual(dims, [Int64(Self.nx), Int64(Self.ny), Int64(Self.nz)])
        let n = Self.nx * Self.ny * Self.nz
        let l = UnsafeBufferPointer(start: cmf_volume_data(labels), count: n)
        XCTAssertTrue(Set(l).isSubset(of: [0, 1, 2, 4]))
        XCTAssertEqual(info.route, Int32(CMF_ROUTE_FUSED.rawValue))
        XCTAssertEqual(info.modalities_used, CMF_MODALITY_T1 | CMF_MODALITY_T1CE | CMF_MODALITY_T2 | CMF_MODALITY_FLAIR)
        XCTAssertEqual(info.class_count, 4)
        let summary = withUnsafeBytes(of: info.summary) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        XCTAssertTrue(summary.contains("CMFF fusion"), summary)
        // Probabilities sum to 1; background is 1 outside the brain; labels are 0 there.
        let pv = probs.map { UnsafeBufferPointer(start: cmf_volume_data($0), count: n) }
        for i in stride(from: 0, to: n, by: 13) {
            XCTAssertEqual(pv.reduce(Float(0)) { $0 + $1[i] }, 1, accuracy: 1e-4)
        }
        XCTAssertEqual(pv[0][0], 1)
        XCTAssertEqual(l[0], 0)

        // Pair A missing: the t2+flair branch alone, said so.
        var labelsB: OpaquePointer?
        var infoB = cmf_segment_info()
        infoB.struct_size = UInt32(MemoryLayout<cmf_segment_info>.size)
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &labelsB, nil, &infoB), CMF_OK,
                       String(cString: cmf_last_error_message()))
        defer { cmf_volume_free(labelsB) }
        XCTAssertEqual(infoB.route, Int32(CMF_ROUTE_BRANCH_B.rawValue))
        XCTAssertEqual(infoB.modalities_used, CMF_MODALITY_T2 | CMF_MODALITY_FLAIR)
        let summaryB = withUnsafeBytes(of: infoB.summary) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        XCTAssertTrue(summaryB.contains("net_1 alone") && summaryB.contains("unavailable"), summaryB)

        // Pair B missing: branch A.
        var labelsA: OpaquePointer?
        var infoA = cmf_segment_info()
        infoA.struct_size = UInt32(MemoryLayout<cmf_segment_info>.size)
        XCTAssertEqual(cmf_segment(m, vols[0], vols[1], nil, nil, &p, &labelsA, nil, &infoA), CMF_OK)
        cmf_volume_free(labelsA)
        XCTAssertEqual(infoA.route, Int32(CMF_ROUTE_BRANCH_A.rawValue))

        // A half pair is an error, as is nothing at all.
        var bad: OpaquePointer?
        XCTAssertEqual(cmf_segment(m, vols[0], nil, vols[2], vols[3], &p, &bad, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(String(cString: cmf_last_error_message()).contains("without t1ce"))
        XCTAssertEqual(cmf_segment(m, nil, nil, nil, nil, &p, &bad, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertNil(bad)
    }

    func testBadInputsAreReportedAndNothingIsReturned() throws {
        let m = try Self.model()
        let good = (0..<4).map { Self.volume($0) }
        defer { good.forEach { cmf_volume_free($0) } }
        var p = params()
        var labels: OpaquePointer?
        XCTAssertEqual(cmf_segment(nil, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, nil, nil, nil), CMF_ERR_INVALID_ARGUMENT)

        let small = Self.volume(2, shape: (Self.nx, Self.ny, Self.nz - 1))
        defer { cmf_volume_free(small) }
        XCTAssertEqual(cmf_segment(m, good[0], good[1], small, good[3], &p, &labels, nil, nil), CMF_ERR_SHAPE)

        let center = Self.nx / 2 + Self.nx * (Self.ny / 2 + Self.ny * (Self.nz / 2))
        let nan = Self.volume(3, nanAt: center)
        defer { cmf_volume_free(nan) }
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], nan, &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(String(cString: cmf_last_error_message()).contains("NaN"))
        XCTAssertNil(labels)
        p.nonfinite_to_zero = 1
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], nan, &p, &labels, nil, nil), CMF_OK)
        cmf_volume_free(labels)
        labels = nil

        p = params()
        p.overlap = 1
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        p = params(patch: 24)  // not a multiple of 16
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        p = params()
        p.connectivity = 5
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        // limits: refused before the work, the message names the need and the cap
        p = params()
        p.max_bytes = 1 << 20
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_OUT_OF_MEMORY)
        XCTAssertTrue(String(cString: cmf_last_error_message()).contains("more than the memory limit of 1 MiB"))
        p = params()
        p.max_voxels = Int64(Self.nx * Self.ny * Self.nz - 1)
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_OUT_OF_MEMORY)
        p.max_voxels = -1
        XCTAssertEqual(cmf_segment(m, good[0], good[1], good[2], good[3], &p, &labels, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertNil(labels)
    }

    /// The enum fields (precision, windows) and the reserved tail: known values run, others
    /// are INVALID_ARGUMENT naming the field.
    func testEnumParamsAndReservedSpace() throws {
        let defaults = cmf_segment_default_params()
        XCTAssertEqual(defaults.precision, Int32(CMF_PRECISION_F32.rawValue))
        XCTAssertEqual(defaults.windows, Int32(CMF_WINDOWS_GRID.rawValue))
        let m = try Self.model()
        let images = (0..<4).map { Self.volume($0) }
        defer { images.forEach { cmf_volume_free($0) } }
        let cases: [(change: (inout cmf_segment_params) -> Void, error: String?)] = [
            ({ $0.precision = 2 }, "params->precision 2 is not a cmf_precision"),
            ({ $0.windows = 2 }, "params->windows 2 is not a cmf_windows"),
            ({ $0.reserved.0 = 1 }, "params->reserved[0] is 1"),
            ({ $0.precision = Int32(CMF_PRECISION_BF16.rawValue) }, nil),
            ({ $0.windows = Int32(CMF_WINDOWS_FITTED.rawValue) }, nil),
        ]
        for (change, error) in cases {
            var p = params()
            change(&p)
            var labels: OpaquePointer?
            let status = cmf_segment(m, images[0], images[1], images[2], images[3], &p, &labels, nil, nil)
            if let error {
                XCTAssertEqual(status, CMF_ERR_INVALID_ARGUMENT)
                XCTAssertTrue(String(cString: cmf_last_error_message()).contains(error), String(cString: cmf_last_error_message()))
                XCTAssertNil(labels)
            } else {
                XCTAssertEqual(status, CMF_OK, String(cString: cmf_last_error_message()))
                XCTAssertNotNil(labels)
                cmf_volume_free(labels)
            }
        }
    }

    func testProgressAbortAndCancelFlag() throws {
        let m = try Self.model()
        let vols = (0..<4).map { Self.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        final class Seen: @unchecked Sendable { var values: [Float] = []; var stopAt: Float = 2 }
        let seen = Seen()
        var p = params()
        p.progress = { f, user in
            let s = Unmanaged<Seen>.fromOpaque(user!).takeUnretainedValue()
            s.values.append(f)
            return f < s.stopAt ? 1 : 0
        }
        p.user_data = Unmanaged.passUnretained(seen).toOpaque()
        var labels: OpaquePointer?
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &labels, nil, nil), CMF_OK)
        cmf_volume_free(labels)
        labels = nil
        XCTAssertEqual(seen.values.first, 0)
        XCTAssertEqual(seen.values.last, 1)
        XCTAssertEqual(seen.values, seen.values.sorted())
        XCTAssertGreaterThan(seen.values.count, 3)

        seen.values = []
        seen.stopAt = 0.2
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &labels, nil, nil), CMF_ERR_ABORTED)
        XCTAssertNil(labels)
        XCTAssertLessThan(seen.values.last!, 0.5)

        var flag: Int32 = 1
        var q = params()
        let status = withUnsafePointer(to: &flag) { f -> cmf_status in
            q.cancel = f
            return cmf_segment(m, nil, nil, vols[2], vols[3], &q, &labels, nil, nil)
        }
        XCTAssertEqual(status, CMF_ERR_ABORTED)
        XCTAssertTrue(String(cString: cmf_last_error_message()).contains("cancelled"))
        XCTAssertNil(labels)
    }

    func testOlderCallersStructSizeKeepsDefaults() throws {
        let m = try Self.model()
        let vols = (0..<4).map { Self.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        // A caller that only knows the fields up to `patch`: everything after keeps its default.
        var p = params()
        p.postprocess = 0  // beyond the caller's struct: must be ignored
        p.struct_size = UInt32(MemoryLayout<cmf_segment_params>.offset(of: \cmf_segment_params.tta)!)
        var a: OpaquePointer?, b: OpaquePointer?
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &a, nil, nil), CMF_OK)
        var full = params()
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &full, &b, nil, nil), CMF_OK)
        defer { cmf_volume_free(a); cmf_volume_free(b) }
        let n = Self.nx * Self.ny * Self.nz
        XCTAssertEqual(Array(UnsafeBufferPointer(start: cmf_volume_data(a), count: n)),
                       Array(UnsafeBufferPointer(start: cmf_volume_data(b), count: n)))
        p.struct_size = 2
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &a, nil, nil), CMF_ERR_INVALID_ARGUMENT)
    }

    func testConcurrentCallsOnOneModelAgreeWithASerialCall() throws {
        let m = try Self.model()
        let vols = (0..<4).map { Self.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        var p = params()
        var serial: OpaquePointer?
        XCTAssertEqual(cmf_segment(m, nil, nil, vols[2], vols[3], &p, &serial, nil, nil), CMF_OK)
        defer { cmf_volume_free(serial) }
        let n = Self.nx * Self.ny * Self.nz
        let expected = Array(UnsafeBufferPointer(start: cmf_volume_data(serial), count: n))
        final class Results: @unchecked Sendable { var labels: [[Float]?] = [nil, nil]; let lock = NSLock() }
        let results = Results()
        let handles = (m, vols[2], vols[3])
        nonisolated(unsafe) let shared = handles
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            var q = cmf_segment_default_params()
            q.patch = (32, 32, 32)
            q.threads = 1
            var out: OpaquePointer?
            let rc = cmf_segment(shared.0, nil, nil, shared.1, shared.2, &q, &out, nil, nil)
            let v = rc == CMF_OK ? Array(UnsafeBufferPointer(start: cmf_volume_data(out), count: n)) : nil
            cmf_volume_free(out)
            results.lock.lock(); results.labels[i] = v; results.lock.unlock()
        }
        XCTAssertEqual(results.labels[0], expected)
        XCTAssertEqual(results.labels[1], expected)
    }

    func testSegmentFilesWritesAtomically() throws {
        let m = try Self.model()
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try SyntheticCase.write(to: dir, nx: Self.nx, ny: Self.ny, nz: Self.nz)
        let out = dir.appendingPathComponent("seg.nii.gz").path
        let prob = dir.appendingPathComponent("prob.nii.gz").path
        var p = params()
        var info = cmf_segment_info()
        info.struct_size = UInt32(MemoryLayout<cmf_segment_info>.size)
        XCTAssertEqual(cmf_segment_files(m, paths["t1"], paths["t1ce"], paths["t2"], paths["flair"], out, prob, &p, &info), CMF_OK,
                       String(cString: cmf_last_error_message()))
        XCTAssertTrue(FileManager.default.fileExists(atPath: prob))
        // Same labels as cmf_segment on the volumes read back; geometry of the input.
        var t: [OpaquePointer?] = [nil, nil, nil, nil]
        for (i, name) in SyntheticCase.names.enumerated() { XCTAssertEqual(cmf_volume_read(paths[name], &t[i]), CMF_OK) }
        defer { t.forEach { cmf_volume_free($0) } }
        var labels: OpaquePointer?, written: OpaquePointer?
        XCTAssertEqual(cmf_segment(m, t[0], t[1], t[2], t[3], &p, &labels, nil, nil), CMF_OK)
        XCTAssertEqual(cmf_volume_read(out, &written), CMF_OK)
        defer { cmf_volume_free(labels); cmf_volume_free(written) }
        let n = Self.nx * Self.ny * Self.nz
        XCTAssertEqual(Array(UnsafeBufferPointer(start: cmf_volume_data(labels), count: n)),
                       Array(UnsafeBufferPointer(start: cmf_volume_data(written), count: n)))
        var a = [Double](repeating: 0, count: 16), b = [Double](repeating: 0, count: 16)
        XCTAssertEqual(cmf_volume_affine(t[0], &a), CMF_OK)
        XCTAssertEqual(cmf_volume_affine(written, &b), CMF_OK)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a[1], 0.02, accuracy: 1e-6)  // the oblique sform survived

        // Unwritable destination, or the output is an input: an error and no file.
        let bad = dir.appendingPathComponent("no/such/dir/seg.nii.gz").path
        XCTAssertEqual(cmf_segment_files(m, paths["t1"], paths["t1ce"], paths["t2"], paths["flair"], bad, nil, &p, nil), CMF_ERR_IO)
        XCTAssertEqual(cmf_segment_files(m, paths["t1"], paths["t1ce"], paths["t2"], paths["flair"], paths["t1"], nil, &p, nil), CMF_ERR_INVALID_ARGUMENT)
        let out2 = dir.appendingPathComponent("seg2.nii.gz").path
        XCTAssertEqual(cmf_segment_files(m, paths["t1"], paths["t1ce"], paths["t2"], paths["flair"], out2, bad, &p, nil), CMF_ERR_IO)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
        XCTAssertEqual(cmf_segment_files(m, paths["t1"], paths["t1ce"], "/nonexistent.nii.gz", paths["flair"], out2, nil, &p, nil), CMF_ERR_IO)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }
}
