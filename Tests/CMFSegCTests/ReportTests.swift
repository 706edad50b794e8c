import CMFSeg
import CMFSegABI
import Foundation
import TestSupport
import XCTest

/// cmf_write_report through the public header: the page, the params struct, refusals.
final class ReportABITests: XCTestCase {
    var lastError: String { String(cString: cmf_last_error_message()) }

    func writeCase(in dir: URL) throws -> (folder: String, seg: String) {
        let folder = dir.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SyntheticCase.write(to: folder, nx: 24, ny: 20, nz: 16)
        var labels = LabelMap(shape: Shape3(24, 20, 16), geometry: SyntheticCase.geometry, repeating: 0)
        for z in 5..<11 { for y in 6..<13 { for x in 9..<17 { labels[x, y, z] = x < 12 ? 1 : 2 } } }
        let seg = dir.appendingPathComponent("seg.nii.gz").path
        try Nifti.write(labels, to: seg)
        return (folder.path, seg)
    }

    func testWritesTheReportWithTheModelFromParams() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try writeCase(in: dir)
        let out = dir.appendingPathComponent("r.html").path
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, out, nil), CMF_OK, lastError)
        let plain = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(plain.contains("No reference was given"))
        XCTAssertTrue(plain.contains("The model that made the segmentation was not given"))

        let weights = SyntheticCase.m2gWeights.map { strdup($0) }
        defer { weights.forEach { free($0) } }
        var list = weights.map { UnsafePointer<CChar>($0) }
        var p = cmf_report_default_params()
        XCTAssertEqual(Int(p.struct_size), MemoryLayout<cmf_report_params>.size)
        list.withUnsafeMutableBufferPointer { buf in
            p.weights = UnsafePointer(buf.baseAddress)
            p.weight_count = buf.count
            XCTAssertEqual(cmf_write_report(c.folder, c.seg, c.seg, out, &p), CMF_OK, lastError)
        }
        let full = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(full.contains("cmff-m2g from"))
        XCTAssertTrue(full.contains("Scores against the reference</h2>\n<table>"))
    }

    func testRefusalsSetTheStatusAndLeaveNoFile() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try writeCase(in: dir)
        let out = dir.appendingPathComponent("r.html").path
        XCTAssertEqual(cmf_write_report(nil, c.seg, nil, out, nil), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("case_dir"), lastError)
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, nil, nil), CMF_ERR_INVALID_ARGUMENT)

        var p = cmf_report_default_params()
        p.struct_size = 0
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, out, &p), CMF_ERR_INVALID_ARGUMENT)
        p = cmf_report_default_params()
        p.weight_count = 2
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, out, &p), CMF_ERR_INVALID_ARGUMENT)
        XCTAssertTrue(lastError.contains("params->weights"), lastError)
        p = cmf_report_default_params()
        p.labels = cmf_label_convention(rawValue: 9)
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, out, &p), CMF_ERR_INVALID_ARGUMENT)

        let other = dir.appendingPathComponent("other.nii.gz").path
        try Nifti.write(LabelMap(shape: Shape3(24, 20, 15), geometry: SyntheticCase.geometry, repeating: 0), to: other)
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, other, out, nil), CMF_ERR_SHAPE)
        XCTAssertTrue(lastError.contains("other.nii.gz"), lastError)
        XCTAssertEqual(cmf_write_report(c.folder, c.seg, nil, dir.appendingPathComponent("r.png").path, nil),
                       CMF_ERR_INVALID_ARGUMENT)
        XCTAssertEqual(cmf_write_report(dir.path, c.seg, nil, out, nil), CMF_ERR_IO)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
