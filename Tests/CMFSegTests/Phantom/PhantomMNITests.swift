@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// The bundled MNI152 anatomy, and cases written to disk and read back with the NIfTI reader.
final class PhantomMNITests: XCTestCase {
    static let template: TissueTemplate? = try? TissueTemplate.sharedMNI152()

    func testTemplateLoadsWithTheExpectedGridAndMask() throws {
        let t = try XCTUnwrap(Self.template)
        XCTAssertEqual(t.shape, Shape3(197, 233, 189))
        // voxel → RAS: 1 mm, origin (−98, −134, −72) (SimpleITK reports LPS origin (98, 134, −72))
        XCTAssertEqual(t.affine, [1, 0, 0, -98, 0, 1, 0, -134, 0, 0, 1, -72, 0, 0, 0, 1])
        let n = t.shape.count
        var maskCount = 0
        var gmSum = 0.0
        for i in 0..<n where t.channels[3 * i] > 0 { maskCount += 1 }
        for i in 0..<n { gmSum += Double(t.channels[3 * i + 1]) }
        // count of T1 > 0 measured with SimpleITK + numpy on the same file
        XCTAssertEqual(maskCount, 1_886_539)
        // bounding box of T1 > 0, also from numpy (argwhere min/max)
        XCTAssertEqual(t.dataBox, [26, 27, 0, 170, 207, 154])
        XCTAssertGreaterThan(gmSum, 5e5)
        // CSF = mask − GM − WM is never negative
        for i in stride(from: 0, to: n, by: 97) {
            XCTAssertGreaterThanOrEqual(t.channels[3 * i] - t.channels[3 * i + 1] - t.channels[3 * i + 2], -1e-6)
        }
    }

    func testWrittenCaseReadsBackIdentically() throws {
        let t = try XCTUnwrap(Self.template)
        let g = try PhantomGenerator(template: t, seed: 2026, grid: .coarse(4))
        let c = try g.generate(index: 0)
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try c.write(into: dir)
        XCTAssertEqual(folder.lastPathComponent, "phantom_0000")
        let files = PhantomCase.files(name: c.name, in: dir)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       Set(["t1", "t1ce", "t2", "flair", "seg"].map { "phantom_0000_\($0).nii.gz" }))
        for m in Modality.allCases {
            let v = try Nifti.readImage(try XCTUnwrap(files.images[m]).path)
            XCTAssertEqual(v.shape, Shape3(60, 60, 39))
            XCTAssertTrue(v.geometry.matches(PhantomGrid.coarse(4).geometry), "\(m)")
            XCTAssertEqual(v.voxels, c.images[m]?.voxels)
            XCTAssertEqual(try Nifti.readHeader(try XCTUnwrap(files.images[m]).path).datatype, .float32)
        }
        let labels = try Nifti.readLabels(files.seg.path)
        XCTAssertEqual(labels.voxels, c.labels.voxels)
        XCTAssertEqual(try Nifti.readHeader(files.seg.path).datatype, .uint8)
        XCTAssertEqual(labels.geometry.qformCode, 1)
        XCTAssertEqual(labels.geometry.sformCode, 1)
        XCTAssertEqual(labels.geometry.affine, PhantomGrid.coarse(4).affine)
        // refuse to overwrite, replace on request, never leave temporaries
        XCTAssertThrowsError(try c.write(into: dir)) { e in XCTAssertTrue("\(e)".contains("already exists"), "\(e)") }
        let other = try g.generate(index: 1)
        var renamed = other
        renamed.name = c.name
        try renamed.write(into: dir, replace: true)
        XCTAssertEqual(try Nifti.readLabels(files.seg.path).voxels, other.labels.voxels)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["phantom_0000"])
    }

    func testSharedTemplateIsTheLoadedOne() throws {
        let a = try TissueTemplate.sharedMNI152(), b = try TissueTemplate.mni152()
        XCTAssertEqual(a.shape, b.shape)
        XCTAssertEqual(a.channels, b.channels)
        XCTAssertEqual(a.dataBox, b.dataBox)
    }

    func testBraTSGridGeometry() {
        let g = PhantomGrid.brats
        XCTAssertEqual(g.shape, Shape3(240, 240, 155))
        // as in BraTS 2018 files (Tests/Fixtures/brats-labels): qform = sform = diag(−1, −1, 1), codes 1
        XCTAssertEqual(g.geometry.affine, [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        XCTAssertEqual(g.geometry.qformCode, 1)
        XCTAssertEqual(g.geometry.sformCode, 1)
        XCTAssertEqual(g.geometry.spacing, SIMD3(1, 1, 1))
        // a coarse grid covers the same field of view: its voxel 0 is the mean of BraTS voxels 0…f−1
        XCTAssertEqual(PhantomGrid.coarse(3).world(SIMD3(0, 0, 0)), PhantomGrid.brats.world(SIMD3(1, 1, 1)))
        XCTAssertEqual(PhantomGrid.coarse(4).shape, Shape3(60, 60, 39))
    }

    func testBraTSGridMatchesRealBraTSLabelFiles() throws {
        let ref = try Nifti.readLabels(Fixtures.path("brats-labels/step0200_ref.nii.gz"))
        XCTAssertEqual(ref.shape, PhantomGrid.brats.shape)
        XCTAssertTrue(ref.geometry.matches(PhantomGrid.brats.geometry))
    }

    func testCaseOnRealAnatomy() throws {
        // the label set and tumour placement inside the brain, 2 mm grid (debug builds are slow
        // at 1 mm; `cmfseg phantom` exercises the full grid)
        let t = try XCTUnwrap(Self.template)
        let (c, tissue) = try PhantomGenerator(template: t, seed: 1, grid: .coarse(2)).generateWithTissue(index: 0)
        PhantomGeneratorTests.assertContrastOrdering(c, tissue, "MNI case")
        var counts = [Int](repeating: 0, count: 256)
        let flair = try XCTUnwrap(c.images[.flair]).voxels
        var brain = 0
        for (i, l) in c.labels.voxels.enumerated() {
            counts[Int(l)] += 1
            if flair[i] > 0 { brain += 1 }
            if l != 0 { XCTAssertGreaterThan(flair[i], 0) }
        }
        XCTAssertEqual(counts[3], 0)
        XCTAssertEqual(counts[1] + counts[2] + counts[4] + counts[0], c.labels.voxels.count)
        XCTAssertGreaterThan(counts[2] * 8, 1000)
        // a brain of 1.1–1.9 litres (8 mm³ voxels), as adult brains without the lowest slices
        XCTAssertGreaterThan(brain * 8, 1_100_000)
        XCTAssertLessThan(brain * 8, 1_900_000)
    }
}
