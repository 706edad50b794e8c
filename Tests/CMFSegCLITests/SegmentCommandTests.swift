import CMFSeg
import Foundation
import TestSupport
import XCTest

/// `cmfseg segment` end to end with the M2G fixture weights (random: mechanics, not accuracy).
final class SegmentCommandTests: XCTestCase {
    static let (nx, ny, nz) = (48, 40, 36)

    func args(_ paths: [String: String], out: String, extra: [String] = []) -> [String] {
        var a = ["segment"]
        for name in SyntheticCase.names { if let p = paths[name] { a += ["--\(name)", p] } }
        return a + ["--out", out, "--weights"] + SyntheticCase.m2gWeights + ["--patch", "32", "32", "32"] + extra
    }

    func testSegmentsACaseAndKeepsItsGeometry() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try SyntheticCase.write(to: dir, nx: Self.nx, ny: Self.ny, nz: Self.nz)
        let out = dir.appendingPathComponent("seg.nii.gz").path
        let prob = dir.appendingPathComponent("prob.nii.gz").path
        let r = try CLI.run(args(paths, out: out, extra: ["--probabilities", prob, "--threads", "2"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("CMFF fusion"), r.stdout)
        XCTAssertTrue(r.stderr.contains("segmenting 100%"), r.stderr)
        let header = try Nifti.readHeader(out)
        let t1 = try Nifti.readHeader(paths["t1"]!)
        XCTAssertEqual(header.datatype, .uint8)
        XCTAssertEqual(header.shape, t1.shape)
        XCTAssertEqual(header.geometry.affine, t1.geometry.affine)
        XCTAssertEqual(header.geometry.sformCode, t1.geometry.sformCode)
        XCTAssertEqual(header.geometry.qformCode, t1.geometry.qformCode)
        XCTAssertEqual(header.geometry.spacing, t1.geometry.spacing)
        XCTAssertTrue(header.descrip.contains("CMFF fusion"), header.descrip)
        XCTAssertTrue(Set(try Nifti.readLabels(out).voxels).isSubset(of: [0, 1, 2, 4]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: prob))
    }

    func testOnePairIsEnoughAndTheOutputSaysSo() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try SyntheticCase.write(to: dir, nx: Self.nx, ny: Self.ny, nz: Self.nz, modalities: ["t2", "flair"])
        let out = dir.appendingPathComponent("seg.nii.gz").path
        let r = try CLI.run(args(paths, out: out, extra: ["--quiet", "--tta", "--no-postprocess"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("net_1 alone"), r.stdout)
        XCTAssertTrue(r.stderr.contains("t1, t1ce not given"), r.stderr)
        XCTAssertTrue(try Nifti.readHeader(out).descrip.contains("unavailable"))
    }

    func testWithoutWeightsTheDefaultModelSegments() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try SyntheticCase.write(to: dir, nx: Self.nx, ny: Self.ny, nz: Self.nz)
        let out = dir.appendingPathComponent("seg.nii.gz").path
        var a = ["segment", "--out", out, "--patch", "32", "32", "32", "--threads", "2"]
        for name in SyntheticCase.names { a += ["--\(name)", paths[name]!] }
        let r = try CLI.run(a)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("CMFF fusion"), r.stdout)
        XCTAssertEqual(try Nifti.readHeader(out).shape, try Nifti.readHeader(paths["t1"]!).shape)
    }

    func testErrorsAreOneLineAndWriteNothing() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths = try SyntheticCase.write(to: dir, nx: Self.nx, ny: Self.ny, nz: Self.nz)
        let out = dir.appendingPathComponent("seg.nii.gz").path

        var r = try CLI.run(args(["t1": paths["t1"]!, "t2": paths["t2"]!, "flair": paths["flair"]!], out: out))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cmfseg: error: ") && r.stderr.contains("without t1ce"), r.stderr)

        r = try CLI.run(args(paths, out: dir.appendingPathComponent("missing/seg.nii.gz").path))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)

        // A 4-D image and a grid mismatch.
        let v = try Nifti.readImage(paths["flair"]!)
        let fourD = dir.appendingPathComponent("flair4d.nii.gz").path
        try Nifti.write(channels: [v, v], to: fourD)
        var bad = paths
        bad["flair"] = fourD
        r = try CLI.run(args(bad, out: out, extra: ["--quiet"]))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cmfseg: error: cannot read") && r.stderr.contains("4-D"), r.stderr)
        let small = dir.appendingPathComponent("flair_small.nii.gz").path
        try Nifti.write(ImageVolume(shape: Shape3(Self.nx, Self.ny, Self.nz - 2), geometry: v.geometry, repeating: 1), to: small)
        bad["flair"] = small
        r = try CLI.run(args(bad, out: out, extra: ["--quiet"]))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("not on the same grid"), r.stderr)

        // NaN: an error that says what to do; accepted with --nonfinite-to-zero.
        var nanVolume = v
        nanVolume.voxels[nanVolume.voxels.firstIndex { $0 != 0 }!] = .nan
        let nan = dir.appendingPathComponent("flair_nan.nii.gz").path
        try Nifti.write(nanVolume, to: nan)
        paths["flair"] = nan
        r = try CLI.run(args(paths, out: out, extra: ["--quiet"]))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--nonfinite-to-zero"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        r = try CLI.run(args(paths, out: out, extra: ["--quiet", "--nonfinite-to-zero"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    }
}
