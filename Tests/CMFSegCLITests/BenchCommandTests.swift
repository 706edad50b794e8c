import Foundation
import TestSupport
import XCTest

/// `cmfseg bench forward|case`: they run and print the documented JSON keys (the numbers are
/// benchmarks, never asserted).
final class BenchCommandTests: XCTestCase {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try CLI.run(["bench"] + args + ["--base-filters", "2", "--repeat", "1", "--threads", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testForwardAndCasePrintTheirKeys() throws {
        let f = try json(["forward", "--patch", "16", "32", "16"])
        XCTAssertEqual(f["patch"] as? String, "16x32x16")
        for key in ["seconds_per_forward", "forward_gflop", "gflops", "peak_rss_gib"] {
            XCTAssertNotNil(f[key] as? Double, key)
        }
        // the sample phantom on a 4 mm grid (60x60x39), windows of the raw model's 128³ patch
        let c = try json(["case", "--grid-factor", "4", "--overlap", "0.25"])
        XCTAssertEqual(c["grid"] as? String, "60x60x39")
        XCTAssertEqual(c["window"] as? String, "128x128x128")
        XCTAssertGreaterThanOrEqual(c["network_calls"] as? Int ?? 0, 1)
        for key in ["seconds_per_case", "seconds_per_forward", "case_over_forward", "seconds_per_forward_128",
                    "case_over_forward_128", "peak_rss_gib"] {
            XCTAssertNotNil(c[key] as? Double, key)
        }
        // a window covering the whole cropped brain: one network call
        let whole = try json(["case", "--grid-factor", "4", "--patch", "64"])
        XCTAssertEqual(whole["window"] as? String, "64x64x64")
        XCTAssertEqual(whole["network_calls"] as? Int, 1)
    }

    func testBadArguments() throws {
        for (args, message) in [(["forward", "--patch", "20"], "multiple of 16"), (["case", "--overlap", "1"], "--overlap"),
                                (["case", "--patch", "24"], "multiple of 16"),
                                (["train", "--repeat", "0"], "--repeat")] {
            let r = try CLI.run(["bench"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }
}
