import CMFSeg
import Foundation
import TestSupport
import XCTest

/// A writer killed at any moment (SIGKILL: no chance to clean up) leaves the old file or the
/// complete new one, and the next write removes the dead writer's temporary.
final class CrashSafetyTests: XCTestCase {
    func testKilledWritersLeaveTheOldOrTheCompleteFile() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.safetensors").path
        func convert(_ dtype: String) -> [String] {
            ["convert", "--weights"] + SyntheticCase.m2gWeights + ["--out", out, "--dtype", dtype]
        }
        let start = Date()
        XCTAssertEqual(try CLI.run(convert("f16")).status, 0)
        let duration = Date().timeIntervalSince(start)
        // kills spread over a whole run; each run writes the other storage type, so the file
        // tells whether the kill came before the rename (old type) or after (new type)
        var current = "F16"
        var outcomes: [String] = []
        var strayTemporaries = 0
        for _ in 0..<6 {
            let next = current == "F16" ? "F32" : "F16"
            let p = Process()
            p.executableURL = CLI.executable
            p.arguments = convert(next.lowercased())
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32(Double.random(in: 0...duration) * 1e6))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // whole: every tensor readable, all of one storage type, the old or the new one
            let dtypes = Set(try SafeTensorsFile.read(path: out).entries.map(\.dtype.rawValue))
            XCTAssertEqual(dtypes.count, 1, "a mixed or partial file after a kill")
            let now = try XCTUnwrap(dtypes.first)
            XCTAssertTrue(now == current || now == next, now)
            outcomes.append(now == current ? "old" : "new")
            current = now
            strayTemporaries += try temporaries().count
        }
        print("after each kill the file was the \(outcomes) one; \(strayTemporaries) temporaries left by killed writers")
        XCTAssertEqual(try CLI.run(convert("f16")).status, 0)
        XCTAssertEqual(try temporaries(), [], "a killed writer's temporary outlived the next write")

        func temporaries() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        }
    }
}
