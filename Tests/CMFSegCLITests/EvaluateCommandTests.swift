import CMFSeg
import Foundation
import TestSupport
import XCTest

/// `cmfseg evaluate`, run as a process: JSON keys and values (against the MedPy /
/// panoptica values of eval_expected.json), batch CSV, and bad input.
final class EvaluateCommandTests: XCTestCase {
    let fixtures = Fixtures.path("brats-labels")

    func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("eval_expected.json")))
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap((doc["cases"] as? [String: Any])?[name] as? [String: Any])
    }

    func assertFails(_ args: [String], mentioning text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(["evaluate"] + args)
        XCTAssertNotEqual(r.status, 0, "should fail: \(args)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "stderr lacks '\(text)': \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stdout.isEmpty, "no output on failure: \(r.stdout)", file: file, line: line)
    }

    func testJSONHasTheDocumentedKeysAndReferenceValues() throws {
        let r = try CLI.run(["evaluate", "--ref", "\(fixtures)/step29800_ref.nii.gz",
                             "--pred", "\(fixtures)/step29800_pred.nii.gz", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(doc.keys), ["WT", "TC", "ET"])
        let e = try expected("step29800")
        for key in ["WT", "TC", "ET"] {
            let m = try XCTUnwrap(doc[key] as? [String: Any])
            XCTAssertEqual(Set(m.keys), ["dice", "hd95", "sensitivity", "specificity", "hd", "assd",
                                         "volume_ref_mm3", "volume_pred_mm3", "nsd", "lesion"])
            let l = try XCTUnwrap(m["lesion"] as? [String: Any])
            XCTAssertEqual(Set(l.keys), ["tp", "fp", "fn", "rq", "sq_dsc", "sq_hd95", "pq"])
            let x = try XCTUnwrap(e[key] as? [String: Any])
            for k in ["dice", "sensitivity", "specificity", "nsd"] {
                XCTAssertEqual(try XCTUnwrap(m[k] as? Double), try XCTUnwrap(x[k] as? Double), accuracy: 1e-9, "\(key) \(k)")
            }
            XCTAssertEqual(try XCTUnwrap(m["hd95"] as? Double), try XCTUnwrap(x["hd95"] as? Double), accuracy: 1e-6)
            let xl = try XCTUnwrap(x["lesion"] as? [String: Any])
            XCTAssertEqual(l["tp"] as? Int, xl["tp"] as? Int)
            XCTAssertEqual(l["fp"] as? Int, xl["fp"] as? Int)
            XCTAssertEqual(l["fn"] as? Int, xl["fn"] as? Int)
        }
    }

    func testTableAndOptions() throws {
        let r = try CLI.run(["evaluate", "--ref", "\(fixtures)/step0200_ref.nii.gz", "--pred", "\(fixtures)/step0200_pred.nii.gz",
                             "--nsd-tolerance", "2.5", "--empty-hd", "inf", "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("region"), r.stdout)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 4)
    }

    func testBatchCSVOneRowPerCaseAndRegion() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refs = dir.appendingPathComponent("refs"), preds = dir.appendingPathComponent("preds")
        let fm = FileManager.default
        try fm.createDirectory(at: refs, withIntermediateDirectories: true)
        try fm.createDirectory(at: preds, withIntermediateDirectories: true)
        // BraTS-style names: <case>-seg.nii.gz references, <case>.nii.gz predictions
        for name in ["step0200", "step15000", "step29800"] {
            try fm.copyItem(atPath: "\(fixtures)/\(name)_ref.nii.gz", toPath: refs.appendingPathComponent("\(name)-seg.nii.gz").path)
            try fm.copyItem(atPath: "\(fixtures)/\(name)_pred.nii.gz", toPath: preds.appendingPathComponent("\(name).nii.gz").path)
        }
        let csv = dir.appendingPathComponent("out.csv").path
        let r = try CLI.run(["evaluate", "--ref-dir", refs.path, "--pred-dir", preds.path, "--csv", csv, "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("[3/3]"), r.stderr)
        // the cohort means on stdout are the means of the reference values
        for region in ["WT", "TC", "ET"] {
            let dice = try ["step0200", "step15000", "step29800"].map {
                try XCTUnwrap((try expected($0)[region] as? [String: Any])?["dice"] as? Double)
            }
            let row = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix(region + " ") }, r.stdout)
            XCTAssertEqual(Double(row.split(separator: " ")[1]) ?? .nan, dice.reduce(0, +) / 3, accuracy: 5e-5, String(row))
        }
        XCTAssertTrue(r.stdout.contains("mean of 3 cases"), r.stdout)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1 + 9)
        XCTAssertEqual(lines[0], EvaluationResult.csvHeader)
        let header = lines[0].split(separator: ",").map(String.init)
        for line in lines.dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            XCTAssertEqual(f.count, header.count)
            let e = try expected(f[0])
            let x = try XCTUnwrap(e[f[1]] as? [String: Any])
            XCTAssertEqual(try XCTUnwrap(Double(f[2])), try XCTUnwrap(x["dice"] as? Double), accuracy: 1e-9, line)
            XCTAssertEqual(try XCTUnwrap(Double(f[3])), try XCTUnwrap(x["hd95"] as? Double), accuracy: 1e-6, line)
            XCTAssertEqual(Int(f[11]), (x["lesion"] as? [String: Any])?["tp"] as? Int, line)
        }
        // the shared-fixture layout: one directory, stepNNNN_ref / stepNNNN_pred
        let r2 = try CLI.run(["evaluate", "--ref-dir", fixtures, "--pred-dir", fixtures, "--csv", csv, "--threads", "2"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let n = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count
        let cases = try fm.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix("_ref.nii.gz") }.count
        XCTAssertEqual(n, 1 + 3 * cases)
    }

    func testBatchErrorsWriteNoCSV() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.copyItem(atPath: "\(fixtures)/step0200_ref.nii.gz", toPath: dir.appendingPathComponent("a_ref.nii.gz").path)
        try fm.copyItem(atPath: "\(fixtures)/step0200_ref.nii.gz", toPath: dir.appendingPathComponent("b_ref.nii.gz").path)
        try fm.copyItem(atPath: "\(fixtures)/step0200_pred.nii.gz", toPath: dir.appendingPathComponent("a_pred.nii.gz").path)
        let csv = dir.appendingPathComponent("out.csv").path
        try assertFails(["--ref-dir", dir.path, "--pred-dir", dir.path, "--csv", csv], mentioning: "without a prediction")
        XCTAssertFalse(fm.fileExists(atPath: csv))
        // a broken prediction: the batch fails naming the file, and no CSV appears
        try Data("not a nifti".utf8).write(to: dir.appendingPathComponent("b_pred.nii.gz"))
        try assertFails(["--ref-dir", dir.path, "--pred-dir", dir.path, "--csv", csv], mentioning: "b_pred.nii.gz")
        XCTAssertFalse(fm.fileExists(atPath: csv))
        let leftovers = try fm.contentsOfDirectory(atPath: dir.path).filter { $0.contains("tmp") }
        XCTAssertEqual(leftovers, [])
        try fm.removeItem(at: dir.appendingPathComponent("b_ref.nii.gz"))
        try assertFails(["--ref-dir", dir.path, "--pred-dir", dir.path, "--csv", "/nonexistent/dir/out.csv"],
                        mentioning: "not a writable directory")
    }

    func testLimitsFromFlagsAndEnvironment() throws {
        let ref = "\(fixtures)/step0200_ref.nii.gz", pred = "\(fixtures)/step0200_pred.nii.gz"
        try assertFails(["--ref", ref, "--pred", pred, "--max-memory", "100M"],
                        mentioning: "needs about 545 MiB, more than the memory limit of 100 MiB")
        try assertFails(["--ref", ref, "--pred", pred, "--max-voxels", "1000000"],
                        mentioning: "8928000 voxels exceed the limit of 1000000")
        try assertFails(["--ref", ref, "--pred", pred, "--max-memory", "lots"], mentioning: "--max-memory=lots is not")
        let env = try CLI.run(["evaluate", "--ref", ref, "--pred", pred], environment: ["CMFSEG_MAX_MEMORY": "64M"])
        XCTAssertEqual(env.status, 1)
        XCTAssertTrue(env.stderr.contains("more than the memory limit of 64 MiB (raise it with CMFSEG_MAX_MEMORY"), env.stderr)
        let bad = try CLI.run(["evaluate", "--ref", ref, "--pred", pred], environment: ["CMFSEG_MAX_VOXELS": "many"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("CMFSEG_MAX_VOXELS=many is not"), bad.stderr)
        // the flag wins over the environment
        let ok = try CLI.run(["evaluate", "--ref", ref, "--pred", pred, "--max-memory", "1G"],
                             environment: ["CMFSEG_MAX_MEMORY": "64M"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    func testBadInput() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ref = "\(fixtures)/step0200_ref.nii.gz", pred = "\(fixtures)/step0200_pred.nii.gz"
        try assertFails(["--ref", "/nonexistent/x.nii.gz", "--pred", pred], mentioning: "cmfseg: error: ")
        try assertFails(["--ref", ref, "--pred", pred, "--labels", "brats2023"], mentioning: "label 4")
        try assertFails(["--ref", ref], mentioning: "--ref and --pred")
        try assertFails(["--ref", ref, "--pred", pred, "--empty-hd", "sometimes"], mentioning: "--empty-hd")
        try assertFails(["--ref", ref, "--pred", pred, "--nsd-tolerance", "-1"], mentioning: "--nsd-tolerance")
        try assertFails(["--ref", ref, "--pred", pred, "--labels", "brats2021"], mentioning: "labels")

        let g = Geometry(spacing: SIMD3(1, 1, 1))
        var vox = [UInt8](repeating: 0, count: 4 * 4 * 4)
        vox[21] = 2
        let a = dir.appendingPathComponent("a.nii").path
        try Nifti.write(LabelMap(shape: Shape3(4, 4, 4), geometry: g, voxels: vox), to: a)
        // spacing differs: refused unless --ignore-geometry
        let b = dir.appendingPathComponent("b.nii").path
        try Nifti.write(LabelMap(shape: Shape3(4, 4, 4), geometry: Geometry(spacing: SIMD3(1, 1, 3)), voxels: vox), to: b)
        try assertFails(["--ref", a, "--pred", b], mentioning: "not on the same grid")
        let ok = try CLI.run(["evaluate", "--ref", a, "--pred", b, "--ignore-geometry", "--json"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        // dims differ: refused even with --ignore-geometry
        let c = dir.appendingPathComponent("c.nii").path
        try Nifti.write(LabelMap(shape: Shape3(4, 4, 5), geometry: g, voxels: vox + [UInt8](repeating: 0, count: 16)), to: c)
        try assertFails(["--ref", a, "--pred", c, "--ignore-geometry"], mentioning: "dims differ")
        // label outside the convention
        var bad = vox
        bad[5] = 7
        let d = dir.appendingPathComponent("d.nii").path
        try Nifti.write(LabelMap(shape: Shape3(4, 4, 4), geometry: g, voxels: bad), to: d)
        try assertFails(["--ref", a, "--pred", d], mentioning: "label 7")
        // non-integer labels
        var f = [Float](repeating: 0, count: 64)
        f[3] = 1.5
        let e = dir.appendingPathComponent("e.nii").path
        try Nifti.write(ImageVolume(shape: Shape3(4, 4, 4), geometry: g, voxels: f), to: e)
        try assertFails(["--ref", a, "--pred", e], mentioning: "1.5")
        // non-positive spacing in the header
        let h = dir.appendingPathComponent("h.nii").path
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: a)))
        withUnsafeBytes(of: Float(0).bitPattern.littleEndian) { for i in 0..<4 { bytes[80 + 4 + i] = $0[i] } } // pixdim[1]
        try Data(bytes).write(to: URL(fileURLWithPath: h))
        try assertFails(["--ref", h, "--pred", h], mentioning: "cmfseg: error: ")
    }
}
