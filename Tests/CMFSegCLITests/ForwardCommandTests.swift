import CMFSeg
import Foundation
import TestSupport
import XCTest

final class ForwardCommandTests: XCTestCase {
    let pt = { (n: String) in Fixtures.path("pytorch/\(n).safetensors") }

    func testDiscriminatorForwardWritesPyTorchOutput() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.safetensors").path
        let r = try CLI.run(["forward", "--weights", pt("disc_dx5"), "--inputs", pt("disc_io"), "--out", out, "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("note: "), r.stderr)
        let got = try SafeTensorsFile.read(path: out)
        XCTAssertEqual(got.metadata["architecture"], "discriminator")
        let expected = try XCTUnwrap(SafeTensorsFile.read(path: pt("disc_io"))["output"])
        let e = try XCTUnwrap(got["output"]).maxAbsDifference(expected)
        print("cmfseg forward (disc) vs PyTorch: max abs error \(e)")
        XCTAssertLessThanOrEqual(e, 1e-4)
    }

    func testM2GForwardWritesThreeOutputs() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.safetensors").path
        let r = try CLI.run(["forward", "--weights", pt("m2g_rand_net0"), pt("m2g_rand_net1"), pt("m2g_rand_fusion"),
                             "--inputs", pt("m2g_io"), "--out", out, "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try SafeTensorsFile.read(path: out)
        let io = try SafeTensorsFile.read(path: pt("m2g_io"))
        for name in ["s0", "s1", "fused"] {
            let e = try XCTUnwrap(got[name]).maxAbsDifference(XCTUnwrap(io[name]))
            print("cmfseg forward \(name) vs PyTorch: max abs error \(e)")
            XCTAssertLessThanOrEqual(e, 1e-4, name)
        }
        XCTAssertTrue(r.stderr.contains("ignoring input tensors"), r.stderr)
    }

    func testBadInputsFailCleanlyAndWriteNothing() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.safetensors").path
        // wrong input names for the model
        var r = try CLI.run(["forward", "--weights", pt("disc_dx5"), "--inputs", pt("m2g_io"), "--out", out])
        XCTAssertNotEqual(r.status, 0)
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("cmfseg: error: ") && last.contains("\"input\""), r.stderr)
        // damaged weights
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: bad))
        r = try CLI.run(["forward", "--weights", bad, "--inputs", pt("disc_io"), "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("bad.safetensors"), r.stderr)
        // an incomplete model (one branch only)
        r = try CLI.run(["forward", "--weights", pt("m2g_rand_net0"), "--inputs", pt("m2g_io"), "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("missing tensor"), r.stderr)
        // unwritable output
        r = try CLI.run(["forward", "--weights", pt("disc_dx5"), "--inputs", pt("disc_io"), "--out", "/nonexistent/x.safetensors"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cannot write"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["bad.safetensors"])
    }
}
