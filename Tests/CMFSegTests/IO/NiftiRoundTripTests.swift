@testable import CMFSeg
import TestSupport
import XCTest

/// Files the library writes itself: write → read back gives the same voxels and geometry.
final class NiftiRoundTripTests: XCTestCase {
    func rotatedGeometry() -> Geometry {
        // A qform from a quaternion (30° about z, qfac -1) and a different sform.
        var g = Geometry(spacing: SIMD3(0.9, 1.1, 2.5))
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        g.qformCode = 1
        g.qform = [c * 0.9, -s * 1.1, 0, -10,
                   s * 0.9, c * 1.1, 0, 20,
                   0, 0, -2.5, 30,
                   0, 0, 0, 1]
        g.sformCode = 4
        g.sform = [0.9, 0.01, 0, -90, 0, 1.1, 0.02, -126, 0, 0, 2.5, -72, 0, 0, 0, 1]
        return g
    }

    func testFloatVolumeRoundTripKeepsVoxelsAndGeometry() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = Shape3(7, 5, 3)
        let voxels = (0..<shape.count).map { Float($0) * 0.37 - 4 }
        let v = ImageVolume(shape: shape, geometry: rotatedGeometry(), voxels: voxels)
        for name in ["a.nii", "b.nii.gz", "c.hdr", "d.img.gz", "E.HDR", "F.NII.GZ"] {
            let path = dir.appendingPathComponent(name).path
            try Nifti.write(v, to: path, description: "round trip")
            let back = try Nifti.readImage(path)
            XCTAssertEqual(back.shape, shape, name)
            XCTAssertEqual(back.voxels, voxels, name)
            XCTAssertEqual(back.geometry.qformCode, 1, name)
            XCTAssertEqual(back.geometry.sformCode, 4, name)
            XCTAssertTrue(back.geometry.matches(v.geometry, tolerance: 1e-5), name)
            for i in 0..<16 {
                XCTAssertEqual(back.geometry.qform[i], v.geometry.qform[i], accuracy: 1e-5, "\(name) qform[\(i)]")
            }
            let h = try Nifti.readHeader(path)
            XCTAssertEqual(h.descrip, "round trip")
            XCTAssertEqual(h.datatype, .float32)
            XCTAssertEqual(h.version, 1)
            // Written again from what was read: the header fields are kept bit for bit.
            let again = dir.appendingPathComponent("again-" + name).path
            try Nifti.write(back, to: again)
            XCTAssertEqual(try Nifti.readImage(again).geometry, back.geometry, name)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        XCTAssertTrue(names.isSuperset(of: ["c.hdr", "c.img", "d.hdr.gz", "d.img.gz", "E.HDR", "E.IMG"]), "\(names)")
    }

    func testLabelMapRoundTrip() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = Shape3(6, 4, 5)
        let voxels = (0..<shape.count).map { UInt8(($0 * 37) % 256) }
        let l = LabelMap(shape: shape, geometry: rotatedGeometry(), voxels: voxels)
        for name in ["a.nii", "b.nii.gz", "c.hdr"] {
            let path = dir.appendingPathComponent(name).path
            try Nifti.write(l, to: path)
            XCTAssertEqual(try Nifti.readHeader(path).datatype, .uint8)
            let back = try Nifti.readLabels(path)
            XCTAssertEqual(back.voxels, voxels)
            XCTAssertEqual(try Nifti.readImage(path).voxels, voxels.map(Float.init))
        }
    }

    func testBratsLabelMapMatchesNibabelHistogram() throws {
        // nibabel: np.unique(step0200_ref) → [0 1 2 4], counts [8924149 371 1525 1955].
        let l = try Nifti.readLabels(Fixtures.path("brats-labels/step0200_ref.nii.gz"))
        XCTAssertEqual(l.shape, Shape3(240, 240, 155))
        var counts = [Int](repeating: 0, count: 256)
        for v in l.voxels { counts[Int(v)] += 1 }
        XCTAssertEqual(counts[0], 8924149); XCTAssertEqual(counts[1], 371)
        XCTAssertEqual(counts[2], 1525); XCTAssertEqual(counts[4], 1955)
        XCTAssertEqual(l.geometry.affine, [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    }

    /// Readers share no mutable state: many threads reading at once get identical results.
    func testConcurrentReadsAgree() throws {
        let files = ["brats-labels/step0200_ref.nii.gz", "nifti/n2_float64.nii.gz", "nifti/bigendian_int16.nii",
                     "nifti/n1_pair_gz_uint16.img.gz", "nifti/scaled_int16.nii"].map(Fixtures.path)
        let reference = try files.map { try Nifti.readImage($0).voxels }
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 20)
        results.initialize(repeating: false)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            let k = i % files.count
            results[i] = (try? Nifti.readImage(files[k]).voxels) == reference[k]
        }
        XCTAssertEqual(Array(results), [Bool](repeating: true, count: 20))
    }
}
