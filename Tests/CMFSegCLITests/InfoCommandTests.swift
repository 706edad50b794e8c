import Foundation
import TestSupport
import XCTest

/// `cmfseg info` run as a process.
final class InfoCommandTests: XCTestCase {
    func testInfoOnBratsLabelsPrintsHistogram() throws {
        let r = try CLI.run(["info", Fixtures.path("brats-labels/step0200_ref.nii.gz")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("240 × 240 × 155"), r.stdout)
        XCTAssertTrue(r.stdout.contains("uint8"), r.stdout)
        XCTAssertTrue(r.stdout.contains("NIfTI-1"), r.stdout)
        // nibabel: np.unique → 0: 8924149, 1: 371, 2: 1525, 4: 1955.
        XCTAssertTrue(r.stdout.contains("labels      0: 8924149, 1: 371, 2: 1525, 4: 1955"), r.stdout)
    }

    func testInfoJSONMatchesNibabel() throws {
        let file = Fixtures.path("nifti/n2_scaled_uint8.nii.gz")
        let r = try CLI.run(["info", file, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["format"] as? String, "NIfTI-2")
        XCTAssertEqual(obj["dims"] as? [Int], [5, 4, 3])
        XCTAssertEqual(obj["datatype"] as? String, "uint8")
        XCTAssertEqual(obj["sclSlope"] as? Double, 2)
        XCTAssertEqual(obj["sclInter"] as? Double, 10)
        XCTAssertEqual(obj["sformCode"] as? Int, 2)
        // Compare with the nibabel expectations of the fixture.
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nifti/expected.json")))) as? [String: Any]
        let good = try XCTUnwrap((expected?["good"] as? [[String: Any]])?.first { ($0["file"] as? String) == "n2_scaled_uint8.nii.gz" })
        let affine = try XCTUnwrap(obj["affine"] as? [[Double]]).flatMap { $0 }
        let want = try XCTUnwrap(good["affine"] as? [Double])
        for (a, b) in zip(affine, want) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let values = try XCTUnwrap(good["values"] as? [Double])
        let intensity = try XCTUnwrap(obj["intensity"] as? [String: Any])
        XCTAssertEqual(intensity["min"] as? Double, values.min())
        XCTAssertEqual(intensity["max"] as? Double, values.max())
        // Scaled uint8 (×2 + 10): integers, so a histogram; its counts cover every voxel.
        let labels = try XCTUnwrap(obj["labels"] as? [[String: Any]])
        XCTAssertEqual(labels.compactMap { $0["count"] as? Int }.reduce(0, +), 60)
        let counts = Dictionary(grouping: values, by: { $0 }).mapValues(\.count)
        for l in labels { XCTAssertEqual(counts[Double(l["value"] as? Int ?? -1)], l["count"] as? Int) }
    }

    func testFloatImageHasNoHistogram() throws {
        let r = try CLI.run(["info", Fixtures.path("nifti/dtype_float32.nii")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("labels"), r.stdout)
        XCTAssertTrue(r.stdout.contains("intensity"), r.stdout)
    }

    func testBadFilesExitNonZeroWithOneLine() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let garbage = dir.appendingPathComponent("garbage.nii").path
        try Data(repeating: 0x41, count: 500).write(to: URL(fileURLWithPath: garbage))
        let empty = dir.appendingPathComponent("empty.nii.gz").path
        try Data().write(to: URL(fileURLWithPath: empty))
        let cases: [(String, String)] = [
            (dir.appendingPathComponent("missing.nii").path, "No such file"),
            (dir.path, "is a directory"),
            (garbage, "not a NIfTI file"),
            (empty, "empty file"),
            (Fixtures.path("nifti/bad_four_d.nii.gz"), "4-D image"),
            (Fixtures.path("nifti/bad_complex64.nii"), "unsupported datatype 32 (complex64)"),
            (dir.appendingPathComponent("w.safetensors").path, "cannot read"),
        ]
        for (file, fragment) in cases {
            let r = try CLI.run(["info", file])
            XCTAssertNotEqual(r.status, 0, file)
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("cmfseg: error: "), r.stderr)
            XCTAssertTrue(r.stderr.contains(file), r.stderr)
            XCTAssertTrue(r.stderr.contains(fragment), r.stderr)
            XCTAssertEqual(r.stdout, "")
        }
    }
}
