@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// The HTML report: its sections, its images (decoded, compared with SlicePreview's), its
/// numbers (the evaluator's), where the slices go, and its refusals.
final class CaseReportTests: XCTestCase {
    static let shape = Shape3(30, 26, 20)
    static let geometry = Geometry(spacing: SIMD3(1, 1.5, 2))

    static func images() -> [Modality: ImageVolume] {
        var images: [Modality: ImageVolume] = [:]
        for (k, m) in Modality.allCases.enumerated() {
            var v = ImageVolume(shape: shape, geometry: geometry, repeating: 0)
            for z in 2..<18 { for y in 2..<24 { for x in 2..<28 { v[x, y, z] = Float(x + 2 * y + 3 * z + 10 * k) } } }
            images[m] = v
        }
        return images
    }

    /// A ball of edema around NCR around ET (label `et`), centred on `c`.
    static func tumour(_ c: SIMD3<Int>, et: UInt8 = 4) -> LabelMap {
        var labels = LabelMap(shape: shape, geometry: geometry, repeating: 0)
        for z in 0..<shape.nz { for y in 0..<shape.ny { for x in 0..<shape.nx {
            let d = SIMD3(Double(x - c.x), Double(y - c.y), Double(z - c.z))
            let r = (d * d).sum().squareRoot()
            if r < 5 { labels[x, y, z] = r < 2 ? et : (r < 3.5 ? 1 : 2) }
        } } }
        return labels
    }

    /// The mean voxel position of the non-zero labels, rounded.
    static func centreOfMass(_ labels: LabelMap) -> SIMD3<Int> {
        var sum = SIMD3<Double>(repeating: 0), n = 0.0
        for z in 0..<shape.nz { for y in 0..<shape.ny { for x in 0..<shape.nx where labels[x, y, z] != 0 {
            sum += SIMD3(Double(x), Double(y), Double(z)); n += 1
        } } }
        let c = (sum / n).rounded(.toNearestOrAwayFromZero)
        return SIMD3(Int(c.x), Int(c.y), Int(c.z))
    }

    static let segmentation = tumour(SIMD3(18, 12, 9))
    static let reference = tumour(SIMD3(17, 13, 10))

    func testPageHasEverySectionImagesInsideAndNothingFetched() throws {
        var input = CaseReport.Input(name: "case <1>", images: Self.images(), segmentation: Self.segmentation,
                                     reference: Self.reference)
        input.files = ["t1": "/data/a&b_t1.nii.gz", "segmentation": "/data/seg.nii.gz"]
        let report = try CaseReport(input)
        let html = report.html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        for id in ["case", "slices", "axial", "coronal", "sagittal", "scores", "volumes", "model", "timings"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), id)
        }
        XCTAssertTrue(html.contains("case &lt;1&gt;"), "names are escaped")
        XCTAssertTrue(html.contains("/data/a&amp;b_t1.nii.gz"))
        for external in ["<script", "<link", "http:", "https:", "url(", "@import"] {
            XCTAssertFalse(html.contains(external), external)
        }
        XCTAssertTrue(html.contains("rgb(230,40,40)") && html.contains("rgb(40,200,60)") && html.contains("rgb(250,220,30)"),
                      "the legend has SlicePreview's colours")

        // every image is an inline PNG, as SlicePreview draws that plane (zoom 200 / 30 = 6)
        XCTAssertEqual(report.zoom, 6)
        let sources = html.components(separatedBy: "src=\"").dropFirst()
        XCTAssertEqual(sources.count, 3)
        let sizes: [SlicePlane: (Int, Int)] = [.axial: (30, 26), .coronal: (30, 20), .sagittal: (26, 20)]
        for (source, slice) in zip(sources, report.slices) {
            let prefix = "data:image/png;base64,"
            XCTAssertTrue(source.hasPrefix(prefix))
            let base64 = String(source.dropFirst(prefix.count).prefix { $0 != "\"" })
            let png = try XCTUnwrap(Data(base64Encoded: base64))
            let decoded = try PNGWriterTests.decode([UInt8](png))
            let (across, down) = try XCTUnwrap(sizes[slice.plane])
            XCTAssertEqual(decoded.width, 6 * (across * 6) + 5 * 4, "\(slice.plane)")
            XCTAssertEqual(decoded.height, down * 6 + 14, "\(slice.plane)")
            XCTAssertEqual(decoded.colourType, 2)
            XCTAssertTrue(html.contains("width=\"\(decoded.width)\" height=\"\(decoded.height)\""))
            let drawn = try SlicePreview.render(images: input.images,
                                                overlays: [("FLAIR+REFERENCE", Self.reference), ("FLAIR+SEGMENTATION", Self.segmentation)],
                                                plane: slice.plane, slice: slice.index, zoom: 6)
            XCTAssertEqual(decoded.pixels, drawn.pixels, "\(slice.plane)")
        }
    }

    func testNumbersAreTheEvaluatorsAndTheVolumesTheVoxelsTimesTheSpacing() throws {
        let report = try CaseReport(CaseReport.Input(name: "c", images: Self.images(), segmentation: Self.segmentation,
                                                     reference: Self.reference))
        let html = report.html()
        let scores = try BraTSEvaluator().evaluate(reference: Self.reference, prediction: Self.segmentation)
        XCTAssertEqual(report.scores, scores)
        for r in TumorRegion.allCases {
            let m = scores[r], l = m.lesion
            for (v, digits) in [(m.dice, 4), (m.hd95, 2), (m.sensitivity, 4), (m.specificity, 4),
                                (l.rq, 4), (l.sqDice, 4), (l.sqHD95, 2), (l.pq, 4)] {
                XCTAssertTrue(html.contains("<td title=\"\(v)\">\(CaseReport.fixed(v, digits))</td>"), "\(r) \(v)")
            }
            XCTAssertTrue(html.contains("<td>\(l.tp)</td><td>\(l.fp)</td><td>\(l.fn)</td>"))
            // 1 × 1.5 × 2 mm voxels = 3 mm³
            XCTAssertEqual(report.segmentationStatistics.volumeCM3(of: r), m.volumePredMM3 / 1000)
            XCTAssertEqual(report.referenceStatistics?.volumeCM3(of: r), m.volumeRefMM3 / 1000)
            XCTAssertEqual(m.volumePredMM3, Double(m.predVoxels) * 3)
            XCTAssertTrue(html.contains("<td title=\"\(m.volumePredMM3 / 1000)\">"))
            XCTAssertTrue(html.contains("<td title=\"\(m.volumeRefMM3 / 1000)\">"))
        }
        for label: UInt8 in [1, 2, 4] {
            let n = Self.segmentation.voxels.filter { $0 == label }.count
            XCTAssertEqual(report.segmentationStatistics.volumeCM3(label: label), Double(n) * 3 / 1000)
            XCTAssertTrue(html.contains("<td title=\"\(Double(n) * 3 / 1000)\">"))
        }
    }

    func testSlicesGoThroughTheReferenceElseTheSegmentationElseTheMiddle() throws {
        let images = Self.images()
        let withReference = try CaseReport(CaseReport.Input(name: "c", images: images, segmentation: Self.segmentation,
                                                            reference: Self.reference))
        XCTAssertEqual(withReference.centreSource, .reference)
        XCTAssertEqual(withReference.centre, Self.centreOfMass(Self.reference))
        XCTAssertEqual(withReference.slices.map(\.index),
                       [withReference.centre.z, withReference.centre.y, withReference.centre.x])
        XCTAssertTrue(withReference.html().contains("centre of mass of the reference"))

        let alone = try CaseReport(CaseReport.Input(name: "c", images: images, segmentation: Self.segmentation))
        XCTAssertEqual(alone.centreSource, .segmentation)
        XCTAssertEqual(alone.centre, Self.centreOfMass(Self.segmentation))
        XCTAssertNil(alone.scores)
        XCTAssertTrue(alone.html().contains("No reference was given"))
        XCTAssertEqual(alone.slices.first.map { $0.width }, 5 * 180 + 4 * 4, "no reference panel")

        let empty = LabelMap(shape: Self.shape, geometry: Self.geometry, repeating: 0)
        let none = try CaseReport(CaseReport.Input(name: "c", images: images, segmentation: empty, reference: empty))
        XCTAssertEqual(none.centreSource, .grid)
        XCTAssertEqual(none.centre, SIMD3(14, 12, 9))
        XCTAssertTrue(none.html().contains("Neither the segmentation nor the reference has tumour"))
    }

    func testBadInputIsRefusedWithTheReason() throws {
        let images = Self.images()
        func refusal(_ input: CaseReport.Input) -> CMFError? {
            do { _ = try CaseReport(input); return nil } catch { return error as? CMFError }
        }
        var missing = images
        missing[.t1ce] = nil
        guard case .invalidArgument(let m)? = refusal(CaseReport.Input(name: "c", images: missing, segmentation: Self.segmentation)) else {
            return XCTFail("a missing contrast")
        }
        XCTAssertTrue(m.contains("t1ce"), m)

        let small = LabelMap(shape: Shape3(30, 26, 19), geometry: Self.geometry, repeating: 0)
        var input = CaseReport.Input(name: "c", images: images, segmentation: Self.segmentation, reference: small)
        input.files["reference"] = "ref.nii.gz"
        guard case .shape(let s)? = refusal(input) else { return XCTFail("reference on another grid") }
        XCTAssertTrue(s.contains("ref.nii.gz"), s)

        var moved = Self.segmentation
        moved.geometry = Geometry(spacing: SIMD3(1, 1.5, 2.5))
        guard case .shape? = refusal(CaseReport.Input(name: "c", images: images, segmentation: moved)) else {
            return XCTFail("segmentation with other spacing")
        }

        var unknown = Self.segmentation
        unknown[3, 4, 5] = 3
        guard case .invalidArgument(let u)? = refusal(CaseReport.Input(name: "c", images: images, segmentation: unknown)) else {
            return XCTFail("label 3 under BraTS 2018")
        }
        XCTAssertTrue(u.contains("(3, 4, 5)") && u.contains("label 3"), u)

        // the BraTS 2023 convention takes 3 for ET, and refuses 4
        var modern = CaseReport.Input(name: "c", images: images, segmentation: Self.tumour(SIMD3(18, 12, 9), et: 3))
        modern.options.labels = .brats2023
        XCTAssertEqual(try CaseReport(modern).segmentationStatistics.voxels(of: .enhancingTumor),
                       Self.segmentation.voxels.filter { $0 == 4 }.count)
        modern.segmentation = Self.segmentation
        guard case .invalidArgument? = refusal(modern) else { return XCTFail("label 4 under BraTS 2023") }
    }

    func testFormatting() {
        XCTAssertEqual(CaseReport.fixed(1.5, 2), "1.50")
        XCTAssertEqual(CaseReport.fixed(0.97346, 4), "0.9735")
        XCTAssertEqual(CaseReport.fixed(-1.26, 1), "-1.3")
        XCTAssertEqual(CaseReport.fixed(-0.001, 2), "0.00")
        XCTAssertEqual(CaseReport.fixed(373.128664, 0), "373")
        XCTAssertEqual(CaseReport.fixed(.nan, 4), "n/a")
        XCTAssertEqual(CaseReport.fixed(.infinity, 2), "∞")
        XCTAssertEqual(CaseReport.number(27), "27")
        XCTAssertEqual(CaseReport.number(1.5), "1.5")
        XCTAssertEqual(CaseReport.number(0.9375), "0.9375")
    }

    // MARK: From files

    /// A case folder `case` with the four contrasts, a segmentation and a reference beside it.
    static func writeCase(in dir: URL) throws -> (folder: String, seg: String, ref: String) {
        let folder = dir.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (m, v) in images() { try Nifti.write(v, to: folder.appendingPathComponent("case_\(m.rawValue).nii.gz").path) }
        let seg = dir.appendingPathComponent("seg.nii.gz").path, ref = dir.appendingPathComponent("ref.nii.gz").path
        try Nifti.write(segmentation, to: seg, description: "made by the test")
        try Nifti.write(reference, to: ref)
        return (folder.path, seg, ref)
    }

    func testFromFilesWithTheModelsProvenance() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try Self.writeCase(in: dir)
        let out = dir.appendingPathComponent("report.html").path
        let report = try CaseReport.write(caseDirectory: c.folder, segmentation: c.seg, reference: c.ref,
                                          weights: SyntheticCase.m2gWeights, to: out)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(report.input.name, "case")
        XCTAssertTrue(html.contains("made by the test"), "the segmentation's own description")
        XCTAssertTrue(html.contains("cmff-m2g from"))
        XCTAssertTrue(html.contains("<th>num_classes</th><td><code>4</code></td>"))
        for path in [c.seg, c.ref, c.folder + "/case_flair.nii.gz"] + SyntheticCase.m2gWeights {
            XCTAssertTrue(html.contains(path), path)
        }
        XCTAssertEqual(report.scores, try BraTSEvaluator().evaluate(referencePath: c.ref, predictionPath: c.seg))
        XCTAssertGreaterThan(report.input.readSeconds, 0)
    }

    func testFromFilesFailuresLeaveNoFile() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try Self.writeCase(in: dir)
        let out = dir.appendingPathComponent("report.html").path
        let other = dir.appendingPathComponent("other.nii.gz").path
        try Nifti.write(LabelMap(shape: Shape3(30, 26, 19), geometry: Self.geometry, repeating: 0), to: other)
        XCTAssertThrowsError(try CaseReport.write(caseDirectory: c.folder, segmentation: c.seg, reference: other, to: out)) {
            guard case .shape(let m)? = $0 as? CMFError else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("other.nii.gz"), m)
        }
        XCTAssertThrowsError(try CaseReport.write(caseDirectory: c.folder, segmentation: c.seg, reference: c.ref,
                                                  to: dir.appendingPathComponent("report.png").path)) {
            guard case .invalidArgument? = $0 as? CMFError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try CaseReport.write(caseDirectory: c.folder, segmentation: c.seg, reference: c.ref,
                                                  weights: [c.ref], to: out))
        try FileManager.default.removeItem(atPath: c.folder + "/case_t2.nii.gz")
        XCTAssertThrowsError(try CaseReport.write(caseDirectory: c.folder, segmentation: c.seg, reference: c.ref, to: out)) {
            guard case .io(let m)? = $0 as? CMFError else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("case_t2.nii.gz"), m)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("report") }
        XCTAssertEqual(left, [], "no report and no temporary file")
    }
}
