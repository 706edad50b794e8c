import CMFSegABI
import Foundation
import TestSupport
import XCTest

/// cmf_evaluate_* through the public header only, checked against the MedPy / panoptica
/// values of Tests/Fixtures/eval_expected.json.
final class EvaluateABITests: XCTestCase {
    var lastError: String { String(cString: cmf_last_error_message()) }

    func expected(_ section: String, _ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("eval_expected.json")))
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap((doc[section] as? [String: Any])?[name] as? [String: Any])
    }

    static func num(_ v: Any?) -> Double {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        switch v as? String { case "inf": return .infinity; case "-inf": return -.infinity; default: return .nan }
    }

    func check(_ r: cmf_eval_result, _ e: [String: Any], _ what: String) {
        let regions = [r.regions.0, r.regions.1, r.regions.2]
        for (i, key) in ["WT", "TC", "ET"].enumerated() {
            guard let x = e[key] as? [String: Any], let l = x["lesion"] as? [String: Any] else { return XCTFail(key) }
            let m = regions[i]
            XCTAssertEqual(m.dice, Self.num(x["dice"]), accuracy: 1e-9, "\(what) \(key)")
            XCTAssertEqual(m.hd95, Self.num(x["hd95"]), accuracy: 1e-6, "\(what) \(key)")
            XCTAssertEqual(m.sensitivity, Self.num(x["sensitivity"]), accuracy: 1e-9, "\(what) \(key)")
            XCTAssertEqual(m.specificity, Self.num(x["specificity"]), accuracy: 1e-9, "\(what) \(key)")
            XCTAssertEqual(m.volume_ref_mm3, Self.num(x["volume_ref_mm3"]), accuracy: 1e-6, "\(what) \(key)")
            XCTAssertEqual(m.nsd, Self.num(x["nsd"]), accuracy: 1e-9, "\(what) \(key)")
            XCTAssertEqual(m.lesion.tp, Int64(l["tp"] as? Int ?? -1), "\(what) \(key)")
            XCTAssertEqual(m.lesion.fp, Int64(l["fp"] as? Int ?? -1), "\(what) \(key)")
            XCTAssertEqual(m.lesion.fn, Int64(l["fn"] as? Int ?? -1), "\(what) \(key)")
            let sq = Self.num(l["sq_hd95"])
            if sq.isFinite { XCTAssertEqual(m.lesion.sq_hd95, sq, accuracy: 1e-6, "\(what) \(key)") }
            else { XCTAssertTrue(sq.isNaN ? m.lesion.sq_hd95.isNaN : m.lesion.sq_hd95 == sq, "\(what) \(key)") }
        }
    }

    func newResult() -> cmf_eval_result {
        var r = cmf_eval_result()
        r.struct_size = UInt32(MemoryLayout<cmf_eval_result>.size)
        return r
    }

    /// Label voxels of a fixture read through cmf_volume_read.
    func labels(_ file: String) throws -> [UInt8] {
        var v: OpaquePointer?
        XCTAssertEqual(cmf_volume_read(Fixtures.path("brats-labels/\(file)"), &v), CMF_OK, lastError)
        defer { cmf_volume_free(v) }
        var dims = [Int64](repeating: 0, count: 3)
        XCTAssertEqual(cmf_volume_dims(v, &dims), CMF_OK)
        let n = Int(dims[0] * dims[1] * dims[2])
        let data = try XCTUnwrap(cmf_volume_data(v))
        return (0..<n).map { UInt8(data[$0]) }
    }

    func testDefaults() {
        let p = cmf_eval_default_params()
        XCTAssertEqual(Int(p.struct_size), MemoryLayout<cmf_eval_params>.size)
        XCTAssertEqual(p.labels, CMF_LABELS_BRATS2018)
        XCTAssertEqual(p.empty_distance, CMF_EMPTY_DIAGONAL)
        XCTAssertLessThan(p.nsd_tolerance_mm, 0)
        XCTAssertEqual(p.ignore_geometry, 0)
    }

    func testFilesMatchReferenceTools() throws {
        for name in ["step0200", "step29800"] {
            var r = newResult()
            var p = cmf_eval_default_params()
            p.threads = 2
            XCTAssertEqual(cmf_evaluate_files(Fixtures.path("brats-labels/\(name)_ref.nii.gz"),
                                              Fixtures.path("brats-labels/\(name)_pred.nii.gz"), &p, &r), CMF_OK, lastError)
            check(r, try expected("cases", name), name)
        }
    }

    func testLabelsInMemoryWithAnisotropicSpacingMatchMedPy() throws {
        let name = "step0200"
        let e = try expected("anisotropic", name)
        let sp = try XCTUnwrap(e["spacing"] as? [Double])
        let ref = try labels("\(name)_ref.nii.gz"), pred = try labels("\(name)_pred.nii.gz")
        var r = newResult()
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 240, 240, 155, sp, nil, &r), CMF_OK, lastError)
        check(r, e, "\(name) anisotropic")
    }

    func testEmptyConventionsAndOverride() {
        // reference has an ET voxel, prediction none: ET distances = diagonal, or the override
        var ref = [UInt8](repeating: 0, count: 4 * 5 * 6), pred = ref
        ref[7] = 4; pred[7] = 1
        var r = newResult()
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 4, 5, 6, [1, 2, 3], nil, &r), CMF_OK, lastError)
        let diag = (16.0 + 100 + 324).squareRoot()
        XCTAssertEqual(r.regions.2.hd95, diag, accuracy: 1e-12)
        XCTAssertEqual(r.regions.2.dice, 0)
        XCTAssertEqual(r.regions.2.nsd, 0)
        XCTAssertEqual(r.regions.2.lesion.fn, 1)
        XCTAssertEqual(r.regions.2.lesion.sq_hd95, .infinity)
        XCTAssertEqual(r.regions.0.dice, 1)   // WT: the same voxel in both
        XCTAssertEqual(r.regions.0.hd95, 0)
        var p = cmf_eval_default_params()
        p.empty_distance = CMF_EMPTY_VALUE
        p.empty_distance_value = 99
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 4, 5, 6, [1, 2, 3], &p, &r), CMF_OK, lastError)
        XCTAssertEqual(r.regions.2.hd95, 99)
        p.empty_distance = CMF_EMPTY_NAN
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 4, 5, 6, [1, 2, 3], &p, &r), CMF_OK, lastError)
        XCTAssertTrue(r.regions.2.hd95.isNaN)
        // both empty: Dice 1, distances 0, lesion quantities NaN
        let zero = [UInt8](repeating: 0, count: 120)
        XCTAssertEqual(cmf_evaluate_labels(zero, zero, 4, 5, 6, [1, 1, 1], nil, &r), CMF_OK, lastError)
        XCTAssertEqual(r.regions.1.dice, 1)
        XCTAssertEqual(r.regions.1.sensitivity, 1)
        XCTAssertEqual(r.regions.1.hd95, 0)
        XCTAssertTrue(r.regions.1.lesion.rq.isNaN && r.regions.1.lesion.pq.isNaN)
    }

    func testLimitsInParams() {
        let ref = [UInt8](repeating: 0, count: 8000)
        var r = newResult()
        var p = cmf_eval_default_params()
        XCTAssertEqual(p.max_voxels, 0)
        XCTAssertEqual(p.max_bytes, 0)
        p.max_bytes = 64 * 8000 - 1   // the estimate is 64 bytes per voxel
        XCTAssertEqual(cmf_evaluate_labels(ref, ref, 20, 20, 20, [1, 1, 1], &p, &r), CMF_ERR_OUT_OF_MEMORY)
        XCTAssertTrue(lastError.contains("more than the memory limit of"), lastError)
        p.max_bytes = 64 * 8000
        XCTAssertEqual(cmf_evaluate_labels(ref, ref, 20, 20, 20, [1, 1, 1], &p, &r), CMF_OK, lastError)
        p.max_voxels = 7999
        XCTAssertEqual(cmf_evaluate_labels(ref, ref, 20, 20, 20, [1, 1, 1], &p, &r), CMF_ERR_OUT_OF_MEMORY)
        XCTAssertTrue(lastError.contains("8000 voxels exceed the limit of 7999"), lastError)
        p.max_voxels = -1
        XCTAssertEqual(cmf_evaluate_labels(ref, ref, 20, 20, 20, [1, 1, 1], &p, &r), CMF_ERR_INVALID_ARGUMENT)
    }

    func testResultStructSizeRule() throws {
        // an older caller's struct that ends after WT: only WT is written, TC keeps its bytes
        var ref = [UInt8](repeating: 0, count: 27), pred = ref
        ref[13] = 2; pred[13] = 2; pred[14] = 2
        let regionStride = MemoryLayout<cmf_region_metrics>.stride
        let wtEnd = try XCTUnwrap(MemoryLayout<cmf_eval_result>.offset(of: \cmf_eval_result.regions)) + regionStride
        var older = cmf_eval_result()
        older.struct_size = UInt32(wtEnd)
        older.regions.1.dice = -7
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], nil, &older), CMF_OK, lastError)
        XCTAssertEqual(older.regions.0.dice, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(older.regions.1.dice, -7)
        XCTAssertEqual(Int(older.struct_size), wtEnd)
        // a newer caller's longer struct: everything this library knows is written, the tail untouched
        let size = MemoryLayout<cmf_eval_result>.size
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size + 32, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB, count: size + 32)
        buffer.storeBytes(of: UInt32(size + 32), as: UInt32.self)
        let newer = buffer.bindMemory(to: cmf_eval_result.self, capacity: 1)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], nil, newer), CMF_OK, lastError)
        XCTAssertEqual(newer.pointee.regions.0.dice, 2.0 / 3, accuracy: 1e-12)
        XCTAssertTrue((size..<(size + 32)).allSatisfy { buffer.load(fromByteOffset: $0, as: UInt8.self) == 0xAB })
    }

    func testBadInput() {
        var r = newResult()
        var ref = [UInt8](repeating: 0, count: 27), pred = ref
        XCTAssertEqual(cmf_evaluate_labels(nil, pred, 3, 3, 3, [1, 1, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, nil, 3, 3, 3, [1, 1, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, nil, nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 0, 3, 3, [1, 1, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 0, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, -2, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        var small = cmf_eval_result()
        small.struct_size = 2
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], nil, &small), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("struct_size"), lastError)
        var p = cmf_eval_default_params()
        p.labels = cmf_label_convention(rawValue: 9)
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], &p, &r), CMF_ERR_INVALID_ARGUMENT)
        p = cmf_eval_default_params()
        p.nsd_tolerance_mm = .nan
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], &p, &r), CMF_ERR_INVALID_ARGUMENT)
        // labels outside the convention
        ref[13] = 3
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("(1, 1, 1)") && lastError.contains("label 3"), lastError)
        p = cmf_eval_default_params()
        p.labels = CMF_LABELS_BRATS2023
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], &p, &r), CMF_OK, lastError)
        pred[0] = 4
        XCTAssertEqual(cmf_evaluate_labels(ref, pred, 3, 3, 3, [1, 1, 1], &p, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("label 4"), lastError)
        // files
        XCTAssertEqual(cmf_evaluate_files(nil, "x", nil, &r), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_evaluate_files("/nonexistent/ref.nii.gz", Fixtures.path("brats-labels/step0200_pred.nii.gz"), nil, &r), CMF_ERR_IO)
        XCTAssertTrue(lastError.contains("/nonexistent/ref.nii.gz"), lastError)
    }

    func testGeometryMismatchIsRefusedUnlessIgnored() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var a: OpaquePointer?, b: OpaquePointer?, c: OpaquePointer?
        var data = [Float](repeating: 0, count: 60)
        data[10] = 1; data[11] = 2
        XCTAssertEqual(cmf_volume_create(3, 4, 5, [1, 1, 1], data, &a), CMF_OK)
        XCTAssertEqual(cmf_volume_create(3, 4, 5, [1, 1, 2], data, &b), CMF_OK)
        XCTAssertEqual(cmf_volume_create(4, 3, 5, [1, 1, 1], data, &c), CMF_OK)
        defer { cmf_volume_free(a); cmf_volume_free(b); cmf_volume_free(c) }
        let pa = dir.appendingPathComponent("a.nii.gz").path, pb = dir.appendingPathComponent("b.nii.gz").path
        let pc = dir.appendingPathComponent("c.nii").path
        XCTAssertEqual(cmf_volume_write(a, pa, CMF_DTYPE_UINT8), CMF_OK)
        XCTAssertEqual(cmf_volume_write(b, pb, CMF_DTYPE_UINT8), CMF_OK)
        XCTAssertEqual(cmf_volume_write(c, pc, CMF_DTYPE_UINT8), CMF_OK)
        var r = newResult()
        XCTAssertEqual(cmf_evaluate_files(pa, pb, nil, &r), CMF_ERR_SHAPE)
        XCTAssertTrue(lastError.contains("spacing"), lastError)
        var p = cmf_eval_default_params()
        p.ignore_geometry = 1
        XCTAssertEqual(cmf_evaluate_files(pa, pb, &p, &r), CMF_OK, lastError)
        XCTAssertEqual(r.regions.0.dice, 1)
        XCTAssertEqual(cmf_evaluate_files(pa, pc, &p, &r), CMF_ERR_SHAPE, "dims must agree even when geometry is ignored")
    }
}
