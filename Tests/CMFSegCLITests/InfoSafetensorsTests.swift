import Foundation
import TestSupport
import XCTest

/// `cmfseg info` on safetensors files: tensors, dtypes, shapes, metadata, the network.
final class InfoSafetensorsTests: XCTestCase {
    func testDiscriminatorFileIsDescribed() throws {
        let file = Fixtures.path("pytorch/disc_dx5.safetensors")
        let r = try CLI.run(["info", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("network     discriminator"), r.stdout)
        XCTAssertTrue(r.stdout.contains("source = 2m_re1 gan_22 dx_5"), r.stdout)
        XCTAssertTrue(r.stdout.contains("conv_1.weight") && r.stdout.contains("F32   [16, 2, 4, 4, 4]"), r.stdout)

        let j = try CLI.run(["info", "--json", file])
        XCTAssertEqual(j.status, 0, j.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["architecture"] as? String, "discriminator")
        let tensors = try XCTUnwrap(obj["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, 10)
        XCTAssertEqual(tensors.first?["name"] as? String, "conv_1.bias")
        XCTAssertEqual(tensors.first?["shape"] as? [Int], [16])
    }

    func testPartOfASplitModelSaysSo() throws {
        let r = try CLI.run(["info", Fixtures.path("pytorch/m2g_rand_fusion.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("not a complete network on its own") && r.stdout.contains("missing tensor"), r.stdout)
        XCTAssertTrue(r.stdout.contains("metadata    (none)"), r.stdout)
    }

    func testDamagedFileIsOneLineError() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try Data([255, 255, 255, 255, 255, 255, 255, 255, 0]).write(to: URL(fileURLWithPath: bad))
        let r = try CLI.run(["info", bad])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("cmfseg: error: ") && r.stderr.contains("100 MB"), r.stderr)
        XCTAssertEqual(r.stdout, "")
    }
}
