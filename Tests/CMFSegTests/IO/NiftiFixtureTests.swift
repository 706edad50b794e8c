@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// Reads the nibabel-written files of Tests/Fixtures/nifti and compares with what nibabel
/// says about them (expected.json, made by Tests/Scripts/make_nifti_fixtures.py).
final class NiftiFixtureTests: XCTestCase {
    struct Expected: Decodable {
        struct Good: Decodable {
            var file: String, version: Int, shape: [Int], datatype: String, big_endian: Bool
            var zooms: [Double], qform_code: Int32, sform_code: Int32
            var qform: [Double], sform: [Double], affine: [Double]
            var scl_slope: Double, scl_inter: Double, descrip: String, quatern: [Double]
            var xyzt_units: Int32, values: [Double]
            var vox_offset: Int?
        }
        struct Bad: Decodable { var file: String; var error: String }
        struct NotLabels: Decodable { var file: String; var voxel: [Int]; var value: Double }
        var good: [Good], bad: [Bad], not_labels: [NotLabels]
    }

    static let expected: Expected? = {
        guard let data = FileManager.default.contents(atPath: Fixtures.path("nifti/expected.json")) else { return nil }
        return try? JSONDecoder().decode(Expected.self, from: data)
    }()

    func load() throws -> Expected { try XCTUnwrap(Self.expected, "Tests/Fixtures/nifti/expected.json unreadable") }

    func assertClose(_ a: [Double], _ b: [Double], _ tol: Double, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > tol {
            XCTFail("\(what)[\(i)]: \(x) vs nibabel \(y)"); return
        }
    }

    func testHeadersMatchNibabel() throws {
        let e = try load()
        XCTAssertGreaterThan(e.good.count, 25)
        XCTAssertTrue(e.good.contains { ($0.vox_offset ?? 0) > 352 }, "a fixture with a header extension")
        for g in e.good {
            let h = try Nifti.readHeader(Fixtures.path("nifti/" + g.file))
            XCTAssertEqual(h.version, g.version, g.file)
            XCTAssertEqual([h.shape.nx, h.shape.ny, h.shape.nz], Array(g.shape.prefix(3)), g.file)
            XCTAssertEqual(h.datatype.name, g.datatype, g.file)
            XCTAssertEqual(h.byteSwapped, g.big_endian, g.file)
            XCTAssertEqual(h.descrip, g.descrip, g.file)
            if let off = g.vox_offset { XCTAssertEqual(h.voxOffset, off, g.file) }
            let (slope, inter) = h.scaling
            XCTAssertEqual(slope, g.scl_slope, g.file); XCTAssertEqual(inter, g.scl_inter, g.file)
            let geo = h.geometry
            assertClose([geo.spacing.x, geo.spacing.y, geo.spacing.z], g.zooms, 1e-6, "\(g.file) spacing")
            XCTAssertEqual(geo.qformCode, g.qform_code, g.file)
            XCTAssertEqual(geo.sformCode, g.sform_code, g.file)
            XCTAssertEqual(geo.xyztUnits, g.xyzt_units, g.file)
            assertClose(geo.sform, g.sform, 1e-5, "\(g.file) sform")
            if g.qform_code > 0 { assertClose(geo.qform, g.qform, 1e-5, "\(g.file) qform") }
            if g.qform_code > 0 || g.sform_code > 0 { assertClose(geo.affine, g.affine, 1e-5, "\(g.file) affine") }
            let q = try XCTUnwrap(geo.qformParameters)
            assertClose([q.b, q.c, q.d, q.offset.x, q.offset.y, q.offset.z], Array(g.quatern.prefix(6)), 1e-7, "\(g.file) quatern")
            XCTAssertEqual(q.qfac, g.quatern[6] < 0 ? -1 : 1, g.file)
        }
    }

    func testVoxelsMatchNibabel() throws {
        for g in try load().good {
            let v = try Nifti.readImage(Fixtures.path("nifti/" + g.file))
            XCTAssertEqual(v.voxels.count, g.values.count, g.file)
            // cmfseg computes stored × slope + inter in double, as nibabel, then rounds to float.
            let want = g.values.map { Float($0) }
            XCTAssertEqual(v.voxels, want, g.file)
        }
    }

    func testLabelsReadFromEveryIntegerLikeFixture() throws {
        for g in try load().good where g.values.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }) {
            let l = try Nifti.readLabels(Fixtures.path("nifti/" + g.file))
            XCTAssertEqual(l.voxels.map(Double.init), g.values, g.file)
        }
        XCTAssertNoThrow(try Nifti.readLabels(Fixtures.path("nifti/labels_float32.nii.gz")))
    }

    func testNotLabelsNameTheVoxelAndValue() throws {
        for n in try load().not_labels {
            let path = Fixtures.path("nifti/" + n.file)
            XCTAssertNoThrow(try Nifti.readImage(path))
            XCTAssertThrowsError(try Nifti.readLabels(path), n.file) { error in
                guard case CMFError.format(let m) = error else { return XCTFail("\(n.file): \(error)") }
                XCTAssertTrue(m.contains(path), m)
                XCTAssertTrue(m.contains("(\(n.voxel[0]), \(n.voxel[1]), \(n.voxel[2]))"), m)
                XCTAssertTrue(m.contains(Nifti.formatValue(n.value)), m)
            }
        }
    }

    func testBadFixturesGiveTheirError() throws {
        for b in try load().bad {
            let path = Fixtures.path("nifti/" + b.file)
            XCTAssertThrowsError(try Nifti.readImage(path), b.file) { error in
                switch (b.error, error) {
                case ("format", CMFError.format(let m)), ("shape", CMFError.shape(let m)):
                    XCTAssertTrue(m.contains(path), m)
                default: XCTFail("\(b.file): expected \(b.error), got \(error)")
                }
            }
        }
    }

    /// Every fixture written by cmfseg and read back: voxels (as float32) and geometry kept.
    /// With CMFSEG_KEEP_WRITTEN=DIR the files stay in DIR with written.json, for
    /// `make_nifti_fixtures.py --check-written DIR` (nibabel reads what cmfseg wrote).
    func testEveryFixtureWrittenAndReadBack() throws {
        let keep = ProcessInfo.processInfo.environment["CMFSEG_KEEP_WRITTEN"]
        let dir = try keep.map { k -> URL in
            try FileManager.default.createDirectory(atPath: k, withIntermediateDirectories: true)
            return URL(fileURLWithPath: k)
        } ?? Fixtures.scratchDirectory()
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        var written: [[String: Any]] = []
        for (i, g) in try load().good.enumerated() {
            let v = try Nifti.readImage(Fixtures.path("nifti/" + g.file))
            let ext = [".nii", ".nii.gz", ".hdr"][i % 3]
            let name = "w\(i)" + ext
            let out = dir.appendingPathComponent(name).path
            try Nifti.write(v, to: out)
            let back = try Nifti.readImage(out)
            XCTAssertEqual(back.voxels, v.voxels, g.file)
            XCTAssertEqual(back.geometry.qformCode, v.geometry.qformCode, g.file)
            XCTAssertEqual(back.geometry.sformCode, v.geometry.sformCode, g.file)
            assertClose(back.geometry.sform, v.geometry.sform, 1e-5, "\(g.file) sform")
            assertClose(back.geometry.qform, v.geometry.qform, 1e-5, "\(g.file) qform")
            assertClose(back.geometry.affine, g.qform_code > 0 || g.sform_code > 0 ? g.affine : v.geometry.affine, 1e-5, "\(g.file) affine")
            written.append(["file": name, "shape": [v.shape.nx, v.shape.ny, v.shape.nz], "datatype": "float32",
                            "values": v.voxels.map(Double.init), "qform_code": v.geometry.qformCode,
                            "sform_code": v.geometry.sformCode,
                            "qform": g.qform, "sform": g.sform,
                            "spacing": g.zooms])
            if v.voxels.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }) {
                let lname = "l\(i)" + ext
                let lout = dir.appendingPathComponent(lname).path
                let labels = v.with(voxels: v.voxels.map { UInt8($0) })
                try Nifti.write(labels, to: lout)
                XCTAssertEqual(try Nifti.readLabels(lout).voxels, labels.voxels, g.file)
                XCTAssertEqual(try Nifti.readHeader(lout).datatype, .uint8)
                var entry = written[written.count - 1]
                entry["file"] = lname; entry["datatype"] = "uint8"
                written.append(entry)
            }
        }
        let json = try JSONSerialization.data(withJSONObject: written, options: [.prettyPrinted])
        try json.write(to: dir.appendingPathComponent("written.json"))
    }

    /// `info`'s statistics: exact range (double precision) and the histogram, as numpy.
    func testSummaryRangeAndHistogramMatchNibabel() throws {
        for g in try load().good {
            let s = try NiftiSummary.of(Fixtures.path("nifti/" + g.file))
            XCTAssertEqual(s.intensity.min, g.values.min(), g.file)
            XCTAssertEqual(s.intensity.max, g.values.max(), g.file)
            XCTAssertEqual(s.dims, Array(g.shape.prefix(3)), g.file)
            let integer = g.values.allSatisfy { $0 == $0.rounded() }
            let counts = Dictionary(grouping: g.values, by: { $0 }).mapValues(\.count)
            if NiftiDatatype.allCases.first(where: { $0.name == g.datatype })?.isInteger == true && integer && counts.count <= 256 {
                let h = try XCTUnwrap(s.labels, g.file)
                XCTAssertEqual(h.map { Double($0.value) }, counts.keys.sorted(), g.file)
                XCTAssertEqual(h.map(\.count), counts.keys.sorted().map { counts[$0]! }, g.file)
            } else {
                XCTAssertNil(s.labels, g.file)
            }
        }
    }
}
