import CMFSeg
import Foundation
import TestSupport
import XCTest

/// `cmfseg report`, run as a process: the page and its scores, and refusals that leave no file.
final class ReportCommandTests: XCTestCase {
    /// A synthetic case folder `case` and a label map on its grid (edema around ET).
    func writeCase(in dir: URL) throws -> (folder: String, seg: String) {
        let folder = dir.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SyntheticCase.write(to: folder, nx: 24, ny: 20, nz: 16)
        var labels = LabelMap(shape: Shape3(24, 20, 16), geometry: SyntheticCase.geometry, repeating: 0)
        for z in 5..<11 { for y in 6..<13 { for x in 9..<17 { labels[x, y, z] = (z == 8 && y == 9) ? 4 : 2 } } }
        let seg = dir.appendingPathComponent("seg.nii.gz").path
        try Nifti.write(labels, to: seg)
        return (folder.path, seg)
    }

    func testWritesThePageWithTheEvaluatorsScores() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try writeCase(in: dir)
        let out = dir.appendingPathComponent("report.html").path
        let r = try CLI.run(["report", "--case", c.folder, "--seg", c.seg, "--ref", c.seg, "--out", out,
                             "--weights"] + SyntheticCase.m2gWeights)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\(out): report on case, slices through voxel ("), r.stdout)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        for id in ["slices", "axial", "coronal", "sagittal", "scores", "volumes", "model", "timings"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), id)
        }
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count, 4)
        // a map against itself: Dice 1 in every region
        XCTAssertEqual(html.components(separatedBy: "<td title=\"1.0\">1.0000</td>").count - 1, 3 * 6,
                       "Dice, sensitivity, specificity, lesion RQ, Dice and PQ of each region")
        XCTAssertTrue(html.contains("cmff-m2g from"))
    }

    func testBadInputIsOneErrorLineAndNoFile() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try writeCase(in: dir)
        let out = dir.appendingPathComponent("report.html").path
        let other = dir.appendingPathComponent("other.nii.gz").path
        try Nifti.write(LabelMap(shape: Shape3(24, 20, 15), geometry: SyntheticCase.geometry, repeating: 0), to: other)
        for (args, text) in [(["--ref", other], "not on the same grid"),
                             (["--labels", "brats2023", "--ref", c.seg], "label 4"),
                             (["--weights", other], "other.nii.gz")] {
            let r = try CLI.run(["report", "--case", c.folder, "--seg", c.seg, "--out", out] + args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("cmfseg: error: ") && r.stderr.contains(text), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(args)")
        }
        let missing = try CLI.run(["report", "--case", dir.path, "--seg", c.seg, "--out", out])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("_t1.nii.gz"), missing.stderr)
        let help = try CLI.run(["--help"])
        XCTAssertTrue(help.stdout.contains("report"), help.stdout)
    }
}
