import CMFSeg
import Foundation
import TestSupport
import XCTest

/// `cmfseg convert`: float16 storage halves the file, keeps every weight to float16 rounding
/// (checked here against numpy-free arithmetic: |x − f16(x)| ≤ 2⁻¹¹·|x|), adds metadata,
/// and refuses what it cannot write.
final class ConvertCommandTests: XCTestCase {
    func testFloat16StorageWithProvenance() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.safetensors").path
        let r = try CLI.run(["convert", "--weights"] + SyntheticCase.m2gWeights
                            + ["--out", out, "--dtype", "f16", "--meta", "training_command=cmfseg train cmff", "--meta", "note=a=b"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("as F16"), r.stdout)

        let original = try Network.load(paths: SyntheticCase.m2gWeights)
        let converted = try Network.load(paths: [out])
        XCTAssertEqual(converted.metadata["training_command"], "cmfseg train cmff")
        XCTAssertEqual(converted.metadata["note"], "a=b")
        XCTAssertEqual(converted.architecture, original.architecture)
        let file = try SafeTensorsFile.read(path: out)
        XCTAssertTrue(file.entries.allSatisfy { $0.dtype == .f16 })
        let inputBytes = try SyntheticCase.m2gWeights.map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }.reduce(0, +)
        let outputBytes = try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int
        XCTAssertLessThan(outputBytes, inputBytes / 2 + 65_536)
        for ((name, a), (_, b)) in zip(original.namedTensors(), converted.namedTensors()) {
            for (x, y) in zip(a.storage, b.storage) {
                XCTAssertLessThanOrEqual(abs(x - y), abs(x) * 0x1p-11 + 0x1p-24, name)
            }
        }
    }

    func testRefusesBadArguments() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.safetensors").path
        let w = ["convert", "--weights"] + SyntheticCase.m2gWeights
        for (args, message) in [(w + ["--out", out, "--dtype", "f64"], "--dtype f64 must be f32, f16 or bf16"),
                                (w + ["--out", out, "--meta", "novalue"], "--meta novalue must be KEY=VALUE"),
                                (w + ["--out", dir.appendingPathComponent("m.bin").path], "must end in .safetensors"),
                                (["convert", "--weights", SyntheticCase.m2gWeights[0], "--out", out], "net_1")] {
            let r = try CLI.run(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused conversion wrote \(out)")
        }
    }
}
