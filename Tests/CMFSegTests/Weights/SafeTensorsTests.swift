@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

final class SafeTensorsTests: XCTestCase {
    /// File bytes from a header text and a data length (data bytes are zeros).
    func file(_ header: String, data: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        var h = Array(header.utf8)
        var n = (declaredLength ?? UInt64(h.count)).littleEndian
        var out = withUnsafeBytes(of: &n) { Array($0) }
        out += h
        h.removeAll()
        return out + [UInt8](repeating: 0, count: data)
    }

    func decodeError(_ bytes: [UInt8]) -> CMFError? {
        do {
            _ = try bytes.withUnsafeBytes { try SafeTensorsFile.decode($0, source: "bad.safetensors") }
            return nil
        } catch let e as CMFError {
            return e
        } catch {
            return .internal("\(error)")
        }
    }

    func assertFormat(_ bytes: [UInt8], _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let e = decodeError(bytes) else { return XCTFail("accepted", file: file, line: line) }
        guard case .format(let m) = e else { return XCTFail("\(e)", file: file, line: line) }
        XCTAssertTrue(m.contains(needle) && m.contains("bad.safetensors"), m, file: file, line: line)
    }

    let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#

    func testValidMinimalFile() throws {
        let f = try file(good, data: 12).withUnsafeBytes { try SafeTensorsFile.decode($0, source: "x") }
        XCTAssertEqual(f.entries.map(\.name), ["a", "b"])
        XCTAssertEqual(f["a"]?.shape, [2])
    }

    func testTruncatedFiles() {
        assertFormat([1, 0, 0], "shorter than the 8-byte")
        assertFormat(file(good, data: 11), "truncated")
        let full = file(good, data: 12)
        assertFormat(Array(full.prefix(20)), "past the end")
    }

    func testHeaderLengthTooBig() {
        assertFormat(file(good, data: 12, declaredLength: 200_000_000), "100 MB")
        assertFormat(file(good, data: 12, declaredLength: UInt64.max), "100 MB")
        assertFormat(file(good, data: 12, declaredLength: 5000), "past the end")
    }

    func testBadJSON() {
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, data: 8), "JSON")
        assertFormat(file(#"[1,2]"#, data: 0), "not a JSON object")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x"#, data: 8), "trailing")
        assertFormat(file(String(repeating: "[", count: 5000), data: 0), "JSON")
        assertFormat(file(#"{"__metadata__":{"k":1}}"#, data: 0), "__metadata__")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: 8), "non-negative")
    }

    func testOverlappingAndHoleyOffsets() {
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12), "overlaps")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, data: 16), "hole")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "hole")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: 8), "data_offsets")
        assertFormat(file(good, data: 16), "trailing bytes")
    }

    func testWrongSizesAndOverflow() {
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 12 bytes")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: 8), "overflow")
        assertFormat(file(#"{"a":{"dtype":"BF16","shape":[4611686018427387904],"data_offsets":[0,8]}}"#, data: 8), "too many")
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#, data: 8), "out of range")
    }

    func testDuplicateNames() {
        assertFormat(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "duplicate key \"a\"")
    }

    func testUnsupportedAndUnknownDtypes() {
        let e = decodeError(file(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: 8))
        guard case .unsupported(let m)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(m.contains("I64") && m.contains("F32, F16, BF16 and U8"), m)
        assertFormat(file(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: 1), "unknown dtype")
    }

    /// U8 tensors (label maps for training checks) read as their values.
    func testU8LabelsRoundTrip() throws {
        let labels = Tensor(shape: [2, 3], storage: [0, 1, 2, 3, 255, 7])
        let bytes = try SafeTensorsFile(entries: [.init(name: "labels", dtype: .u8, tensor: labels)]).encoded()
        let back = try bytes.withUnsafeBytes { try SafeTensorsFile.decode($0, source: "memory") }
        XCTAssertEqual(back.entries.first?.dtype, .u8)
        XCTAssertEqual(back["labels"]?.storage, labels.storage)
        XCTAssertEqual(back["labels"]?.shape, [2, 3])
    }

    func testNonRegularFilesAreRefusedWithoutReading() {
        for path in ["/dev/zero", NSTemporaryDirectory()] {
            XCTAssertThrowsError(try SafeTensorsFile.read(path: path)) { e in
                guard case CMFError.io(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains("not a regular file"), m)
            }
        }
    }

    /// Random byte edits and truncations of a valid file: decoded or refused with a
    /// CMFError, never a crash (the process would die).
    func testRandomCorruptionNeverCrashes() throws {
        let good = try Array(Data(contentsOf: URL(fileURLWithPath: Fixtures.path("layers/dtypes.safetensors"))))
        var rng = SystemRandomNumberGenerator()
        var refused = 0
        for trial in 0..<3000 {
            var b = good
            if trial % 5 == 0 {
                b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = trial % 3 == 0 ? Int.random(in: 0..<min(b.count, 200), using: &rng) : Int.random(in: 0..<b.count, using: &rng)
                    b[i] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if let e = decodeError(b) {
                refused += 1
                if case .internal = e { XCTFail("not a clear error: \(e)") }
            }
        }
        print("random corruption: \(refused) of 3000 refused, none crashed")
        XCTAssertGreaterThan(refused, 1000)
    }

    func testUnreadableFileIsIOError() {
        XCTAssertThrowsError(try SafeTensorsFile.read(path: "/nonexistent/w.safetensors")) { e in
            guard case CMFError.io(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("/nonexistent/w.safetensors"))
        }
    }

    /// F16/BF16 storage written by numpy decodes to numpy's float values; our encoder
    /// produces numpy's bytes; a write → read round trip keeps names, shapes, values, metadata.
    func testDtypeConversionAgainstNumpyAndRoundTrip() throws {
        let stored = try SafeTensorsFile.read(path: Fixtures.path("layers/dtypes.safetensors"))
        let expected = try SafeTensorsFile.read(path: Fixtures.path("layers/dtypes_expected.safetensors"))
        XCTAssertEqual(stored.metadata["made_by"], "make_layer_fixtures.py")
        let h = try XCTUnwrap(stored["h"]), b = try XCTUnwrap(stored["b"])
        XCTAssertEqual(h.shape, [3, 4])
        XCTAssertEqual(h.storage, try XCTUnwrap(expected["h"]).storage)
        XCTAssertEqual(b.storage, try XCTUnwrap(expected["b"]).storage)

        let source = try XCTUnwrap(expected["source"])
        let mine = SafeTensorsFile(entries: [.init(name: "h", dtype: .f16, tensor: Tensor(shape: [3, 4], storage: source.storage)),
                                             .init(name: "b", dtype: .bf16, tensor: source)],
                                   metadata: ["made_by": "make_layer_fixtures.py"])
        let raw = try Array(Data(contentsOf: URL(fileURLWithPath: Fixtures.path("layers/dtypes.safetensors"))))
        XCTAssertEqual(Array(try mine.encoded().suffix(48)), Array(raw.suffix(48)), "F16/BF16 bytes differ from numpy's")

        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rt.safetensors").path
        try mine.write(to: path)
        let back = try SafeTensorsFile.read(path: path)
        XCTAssertEqual(back.metadata, mine.metadata)
        XCTAssertEqual(back.entries.map(\.name), ["h", "b"])
        XCTAssertEqual(back.entries.map(\.dtype), [.f16, .bf16])
        XCTAssertEqual(back["h"]?.storage, h.storage)
        XCTAssertEqual(back["b"]?.storage, b.storage)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["rt.safetensors"], "temp file left")

        let f32 = SafeTensorsFile(entries: [.init(name: "x", tensor: source)], metadata: ["a\"b": "line\nbreak"])
        try f32.write(to: path)
        let back32 = try SafeTensorsFile.read(path: path)
        XCTAssertEqual(back32["x"]?.storage, source.storage)
        XCTAssertEqual(back32.metadata, ["a\"b": "line\nbreak"])
    }

    func testWriterRefusesDuplicatesAndUnwritablePaths() throws {
        let t = Tensor(zeros: [2])
        XCTAssertThrowsError(try SafeTensorsFile(entries: [.init(name: "a", tensor: t), .init(name: "a", tensor: t)]).encoded())
        XCTAssertThrowsError(try SafeTensorsFile(entries: [.init(name: "a", tensor: t)]).write(to: "/nonexistent/dir/x.safetensors")) { e in
            guard case CMFError.io = e else { return XCTFail("\(e)") }
        }
    }
}
