@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// The inputs the fuzzers found (Tests/Fuzz/regressions/TARGET/NAME), read through the
/// normal API: each must get a clear error. Run under AddressSanitizer
/// (Tests/Sanitize/run.sh asan) they also pin the memory errors and leaks fixed.
final class FuzzRegressionTests: XCTestCase {
    func input(_ target: String, _ name: String) -> String {
        Fixtures.root.appendingPathComponent("Tests/Fuzz/regressions/\(target)/\(name)").path
    }

    func assertFormatError(_ body: @autoclosure () throws -> Any, _ needle: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            guard case CMFError.format(let m) = e else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertTrue(m.contains(needle), m, file: file, line: line)
        }
    }

    /// Foundation leaked its 4 KiB read buffer on every empty weight file.
    func testEmptyWeightFileIsRefusedWithoutLeaking() {
        let path = input("network", "empty-file")
        assertFormatError(try SafeTensorsFile.read(path: path), "not a safetensors file (0 bytes")
        assertFormatError(try SegmentationModel(weightPaths: [path]), "not a safetensors file (0 bytes")
    }
}
