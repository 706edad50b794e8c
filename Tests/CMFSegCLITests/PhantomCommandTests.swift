import Foundation
import TestSupport
import XCTest

/// `cmfseg phantom` and `cmfseg preview` end to end (coarse 4 mm grid for speed).
final class PhantomCommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.scratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ p: String) -> String { dir.appendingPathComponent(p).path }

    func phantom(_ extra: [String]) throws -> CLI.Result {
        try CLI.run(["phantom", "--grid-factor", "4"] + extra)
    }

    func testWritesCasesDeterministicallyAndRefusesToOverwrite() throws {
        let a = try phantom(["--out", path("a"), "--cases", "2", "--seed", "5", "--threads", "1"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stdout.contains("per case"), a.stdout)
        for c in ["phantom_0000", "phantom_0001"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: path("a/\(c)")).sorted()
            XCTAssertEqual(files, ["flair", "seg", "t1", "t1ce", "t2"].map { "\(c)_\($0).nii.gz" })
        }
        // same seed, other thread count, case 1 alone: byte-identical files
        let b = try phantom(["--out", path("b"), "--cases", "1", "--start", "1", "--seed", "5", "--threads", "2"])
        XCTAssertEqual(b.status, 0, b.stderr)
        for s in ["t1", "t1ce", "t2", "flair", "seg"] {
            let fa = try Data(contentsOf: URL(fileURLWithPath: path("a/phantom_0001/phantom_0001_\(s).nii.gz")))
            let fb = try Data(contentsOf: URL(fileURLWithPath: path("b/phantom_0001/phantom_0001_\(s).nii.gz")))
            XCTAssertEqual(fa, fb, s)
        }
        // another seed: other images
        let c = try phantom(["--out", path("c"), "--cases", "1", "--seed", "6"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/phantom_0000/phantom_0000_t1.nii.gz"))),
                          try Data(contentsOf: URL(fileURLWithPath: path("c/phantom_0000/phantom_0000_t1.nii.gz"))))
        // the shifted variant of the same seed: other images
        let shifted = try phantom(["--out", path("d"), "--cases", "1", "--seed", "6", "--variant", "shifted"])
        XCTAssertEqual(shifted.status, 0, shifted.stderr)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path("d/phantom_0000/phantom_0000_t1.nii.gz"))),
                          try Data(contentsOf: URL(fileURLWithPath: path("c/phantom_0000/phantom_0000_t1.nii.gz"))))
        // existing case folders: refused without --force, replaced with it
        let again = try phantom(["--out", path("a"), "--cases", "1", "--seed", "6"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.hasPrefix("cmfseg: error: "), again.stderr)
        XCTAssertTrue(again.stderr.contains("phantom_0000 already exists"), again.stderr)
        let forced = try phantom(["--out", path("a"), "--cases", "1", "--seed", "6", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a/phantom_0000/phantom_0000_t1.nii.gz"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("c/phantom_0000/phantom_0000_t1.nii.gz"))))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("a")).sorted(), ["phantom_0000", "phantom_0001"])
    }

    func testPreviewOptionAndPreviewCommand() throws {
        let r = try phantom(["--out", path("p"), "--seed", "3", "--preview", path("p.png")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try Data(contentsOf: URL(fileURLWithPath: path("p.png")))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let v = try CLI.run(["preview", path("p/phantom_0000"), "--slice", "20", "--out", path("q.png")])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("axial slice 20"), v.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("q.png")))
        let bad = try CLI.run(["preview", path("p/phantom_0000"), "--slice", "500", "--out", path("r.png")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("slice 500"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("r.png")))
        let missing = try CLI.run(["preview", path("nowhere"), "--out", path("s.png")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nowhere is not a directory"), missing.stderr)
    }

    func testBadArgumentsFailWithOneLineMessages() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path("file"), contents: Data([1])))
        let cases: [([String], String)] = [
            (["--out", path("x"), "--cases", "0"], "--cases 0 must be 1–10000"),
            (["--out", path("file")], "is a file, not a directory"),
            (["--out", path("x"), "--preview", path("x.jpg")], "must end in .png"),
            (["--out", path("x"), "--preview-slice", "3"], "--preview-slice needs --preview"),
            (["--out", path("x"), "--threads=-1"], "--threads -1 must be 0–256"),
            (["--out", path("x"), "--start=-2"], "--start -2 must be"),
            (["--out", path("x"), "--variant", "odd"], "--variant odd must be one of standard, shifted"),
            (["--out", path("file/sub")], "cannot create the output directory"),
            (["--out", path("x"), "--preview", path("nodir/p.png")], "does not exist or is not writable"),
        ]
        for (args, message) in cases {
            let r = try phantom(args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("cmfseg: error: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x/phantom_0000")))
        // a preview slice beyond the grid: refused before anything is generated
        let r = try phantom(["--out", path("y"), "--preview", path("y.png"), "--preview-slice", "999"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("slice 999"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("y.png")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("y/phantom_0000")))
        // parse errors (ArgumentParser): non-zero too
        XCTAssertNotEqual(try CLI.run(["phantom", "--cases", "2"]).status, 0)
        XCTAssertNotEqual(try CLI.run(["phantom", "--out", path("z"), "--seed", "-1"]).status, 0)
    }
}
