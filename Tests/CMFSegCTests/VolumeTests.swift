import CMFSegABI
import Foundation
import TestSupport
import XCTest

/// cmf_volume_* through the public header only.
final class VolumeABITests: XCTestCase {
    var lastError: String { String(cString: cmf_last_error_message()) }

    func testNullArgumentsAreInvalidArgument() {
        var v: OpaquePointer?
        XCTAssertEqual(cmf_volume_read(nil, &v), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("path is NULL"), lastError)
        XCTAssertEqual(cmf_volume_read("x.nii", nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_read("", &v), CMF_ERR_INVALID_ARGUMENT)
        var spacing = [1.0, 1.0, 1.0]
        XCTAssertEqual(cmf_volume_create(2, 2, 2, &spacing, nil, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_create(2, 2, 2, nil, nil, &v), CMF_ERR_INVALID_ARGUMENT)
        var dims = [Int64](repeating: 0, count: 3), aff = [Double](repeating: 0, count: 16)
        XCTAssertEqual(cmf_volume_dims(nil, &dims), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_spacing(nil, &spacing), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_affine(nil, &aff), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertNil(cmf_volume_data(nil))
        XCTAssertEqual(cmf_volume_write(nil, "/tmp/x.nii", CMF_DTYPE_FLOAT32), CMF_ERR_INVALID_ARGUMENT)
        cmf_volume_free(nil)
        XCTAssertNil(v, "out-parameters are written only on success")

        XCTAssertEqual(cmf_volume_create(2, 2, 2, &spacing, nil, &v), CMF_OK)
        defer { cmf_volume_free(v) }
        XCTAssertEqual(cmf_volume_dims(v, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_spacing(v, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_affine(v, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_write(v, nil, CMF_DTYPE_FLOAT32), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_write(v, "/tmp/x.nii", cmf_dtype(rawValue: 7)), CMF_ERR_INVALID_ARGUMENT)
    }

    func testCreateRejectsBadDimsAndSpacing() {
        var v: OpaquePointer?
        var spacing = [1.0, 1.0, 1.0]
        XCTAssertEqual(cmf_volume_create(0, 2, 2, &spacing, nil, &v), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_create(2, -1, 2, &spacing, nil, &v), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_volume_create(1 << 40, 1 << 40, 2, &spacing, nil, &v), CMF_ERR_OUT_OF_MEMORY)
        for bad in [0.0, -1.0, .nan, .infinity] {
            var s = [1.0, bad, 1.0]
            XCTAssertEqual(cmf_volume_create(2, 2, 2, &s, nil, &v), CMF_ERR_INVALID_ARGUMENT, "\(bad)")
        }
        XCTAssertNil(v)
    }

    func testBadFilesGiveIOAndFormatErrors() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var v: OpaquePointer?
        let missing = dir.appendingPathComponent("missing.nii.gz").path
        XCTAssertEqual(cmf_volume_read(missing, &v), CMF_ERR_IO)
        XCTAssertTrue(lastError.contains(missing), lastError)
        XCTAssertEqual(cmf_volume_read(dir.path, &v), CMF_ERR_IO)
        XCTAssertTrue(lastError.contains("is a directory"), lastError)
        let garbage = dir.appendingPathComponent("garbage.nii").path
        try Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: garbage))
        XCTAssertEqual(cmf_volume_read(garbage, &v), CMF_ERR_FORMAT)
        XCTAssertTrue(lastError.contains(garbage), lastError)
        XCTAssertEqual(cmf_volume_read(Fixtures.path("nifti/bad_four_d.nii.gz"), &v), CMF_ERR_SHAPE)
        XCTAssertEqual(cmf_volume_read(Fixtures.path("nifti/bad_complex64.nii"), &v), CMF_ERR_FORMAT)
        XCTAssertNil(v)
    }

    func testRoundTripThroughFiles() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var spacing = [1.5, 2.0, 2.5]
        let values: [Float] = (0..<24).map { Float($0 % 5) }
        var v: OpaquePointer?
        XCTAssertEqual(cmf_volume_create(4, 3, 2, &spacing, values, &v), CMF_OK)
        defer { cmf_volume_free(v) }
        let data = try XCTUnwrap(cmf_volume_data(v))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: data, count: 24)), values)
        var aff = [Double](repeating: 0, count: 16)
        XCTAssertEqual(cmf_volume_affine(v, &aff), CMF_OK)
        XCTAssertEqual(aff, [1.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1])

        for (name, dtype) in [("f.nii.gz", CMF_DTYPE_FLOAT32), ("l.nii", CMF_DTYPE_UINT8), ("p.hdr", CMF_DTYPE_UINT8)] {
            let path = dir.appendingPathComponent(name).path
            XCTAssertEqual(cmf_volume_write(v, path, dtype), CMF_OK, lastError)
            var r: OpaquePointer?
            XCTAssertEqual(cmf_volume_read(path, &r), CMF_OK, lastError)
            defer { cmf_volume_free(r) }
            var dims = [Int64](repeating: 0, count: 3), sp = [Double](repeating: 0, count: 3)
            XCTAssertEqual(cmf_volume_dims(r, &dims), CMF_OK)
            XCTAssertEqual(dims, [4, 3, 2])
            XCTAssertEqual(cmf_volume_spacing(r, &sp), CMF_OK)
            XCTAssertEqual(sp, [1.5, 2.0, 2.5])
            var raff = [Double](repeating: 0, count: 16)
            XCTAssertEqual(cmf_volume_affine(r, &raff), CMF_OK)
            XCTAssertEqual(raff, aff)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: cmf_volume_data(r), count: 24)), values, name)
        }
    }

    func testNonLabelValuesRefusedAsUInt8AndNothingWritten() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var spacing = [1.0, 1.0, 1.0]
        for bad: Float in [3.5, 300, -1, .nan] {
            var v: OpaquePointer?
            XCTAssertEqual(cmf_volume_create(2, 1, 1, &spacing, [0, bad], &v), CMF_OK)
            defer { cmf_volume_free(v) }
            let path = dir.appendingPathComponent("seg.nii.gz").path
            XCTAssertEqual(cmf_volume_write(v, path, CMF_DTYPE_UINT8), CMF_ERR_INVALID_ARGUMENT)
            XCTAssertTrue(lastError.contains("voxel (1, 0, 0)"), lastError)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        }
    }

    func testUnwritableDestinationIsIOErrorAndLeavesNothing() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var spacing = [1.0, 1.0, 1.0]
        var v: OpaquePointer?
        XCTAssertEqual(cmf_volume_create(2, 2, 2, &spacing, nil, &v), CMF_OK)
        defer { cmf_volume_free(v) }
        let path = dir.appendingPathComponent("no/such/dir/out.nii.gz").path
        XCTAssertEqual(cmf_volume_write(v, path, CMF_DTYPE_FLOAT32), CMF_ERR_IO)
        XCTAssertTrue(lastError.contains(path), lastError)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}
