import Foundation
import TestSupport
import XCTest

/// `cmfseg demo`: the sample case is written, the missing default model is said (not
/// hidden), and the real-pair scores are MedPy's / panoptica's (eval_expected.json).
final class DemoCommandTests: XCTestCase {
    func testDemoWritesSampleSaysNoDefaultModelAndScoresTheRealPair() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["demo", "--out", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)

        for suffix in ["t1", "t1ce", "t2", "flair", "seg"] {
            let file = dir.appendingPathComponent("phantom_0000/phantom_0000_\(suffix).nii.gz").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
        }
        XCTAssertTrue(r.stdout.contains("skipped: no default model is bundled with this build yet"), r.stdout)

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
