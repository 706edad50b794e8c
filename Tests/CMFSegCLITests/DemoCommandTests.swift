import Foundation
import TestSupport
import XCTest

/// `cmfseg demo`: the sample case is written, segmented with the default model, scored and
/// drawn; the real-pair scores are MedPy's / panoptica's (eval_expected.json).
final class DemoCommandTests: XCTestCase {
    func testDemoSegmentsTheSampleAndScoresTheRealPair() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // the sample on a 3 mm grid (the full-size demo runs in the release build's CTest)
        let r = try CLI.run(["demo", "--out", dir.path, "--grid-factor", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)

        for suffix in ["t1", "t1ce", "t2", "flair", "seg"] {
            let file = dir.appendingPathComponent("phantom_0000/phantom_0000_\(suffix).nii.gz").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("phantom_0000_pred.nii.gz").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("phantom_0000_pred.png").path))
        // the visual report: the sample against its reference, the bundled model's provenance
        let page = try String(contentsOfFile: dir.appendingPathComponent("report.html").path, encoding: .utf8)
        for text in ["Scores against the reference</h2>\n<table>", "centre of mass of the reference",
                     "<th>training_command</th>", "The segmentation: read "] {
            XCTAssertTrue(page.contains(text), text)
        }
        XCTAssertEqual(page.components(separatedBy: "src=\"data:image/png;base64,").count, 4)
        // the sample's scores: one table of WT, TC, ET before the real pair's
        let sample = r.stdout.components(separatedBy: "== 3.")[0]
        let wt = try XCTUnwrap(sample.split(separator: "\n").first { $0.hasPrefix("WT ") }, r.stdout)
        let dice = try XCTUnwrap(Double(wt.split(separator: " ")[1]))
        XCTAssertTrue((0...1).contains(dice), String(wt))

        // The bundled pair is step29800 of the shared fixtures.
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("eval_expected.json")))
        let cases = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["cases"] as? [String: Any])
        let expected = try XCTUnwrap(cases["step29800"] as? [String: Any])
        let rows = r.stdout.split(separator: "\n").suffix(3)
        for (row, region) in zip(rows, ["WT", "TC", "ET"]) {
            let fields = row.split(separator: " ")
            XCTAssertEqual(String(fields[0]), region)
            let dice = try XCTUnwrap((expected[region] as? [String: Any])?["dice"] as? Double)
            XCTAssertEqual(Double(fields[1]) ?? .nan, dice, accuracy: 5e-5, "\(region) dice in \(row)")
        }
    }

    func testDemoSegmentsWithGivenWeightsRefusesDamagedOnes() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bogus = dir.appendingPathComponent("w.safetensors")
        try Data("not a safetensors file".utf8).write(to: bogus)
        let r = try CLI.run(["demo", "--out", dir.path, "--weights", bogus.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("w.safetensors"), r.stderr)
    }
}
