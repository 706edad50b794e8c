@testable import CMFSeg
import TestSupport
import XCTest

/// Files in, files out: geometry survives, outputs are all-or-nothing.
final class SegmenterFilesTests: XCTestCase {
    func writeCase(_ dir: URL, modalities: [Modality] = Modality.allCases) throws -> [Modality: String] {
        let input = SegmenterTests.syntheticCase(modalities: modalities)
        var paths: [Modality: String] = [:]
        for m in modalities {
            let p = dir.appendingPathComponent("case_\(m.rawValue).nii.gz").path
            try Nifti.write(input.volumes[m]!, to: p)
            paths[m] = p
        }
        return paths
    }

    func testGeometryIsPreservedEndToEnd() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try writeCase(dir)
        let input = try CaseInput(files: paths)
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        options.keepProbabilities = true
        let result = try Segmenter.segment(input, predictor: LinearSoftmaxPredictor(), options: options)
        let out = dir.appendingPathComponent("seg.nii.gz").path
        let prob = dir.appendingPathComponent("prob.nii").path
        try AtomicFile.checkDestinations([out, prob], inputs: Array(paths.values))
        try result.write(labelsTo: out, probabilitiesTo: prob)

        let header = try Nifti.readHeader(out)
        let t1 = try Nifti.readHeader(paths[.t1]!)
        XCTAssertEqual(header.datatype, .uint8)
        XCTAssertEqual(header.shape, t1.shape)
        XCTAssertEqual(header.geometry.affine, t1.geometry.affine)
        XCTAssertEqual(header.geometry.qform, t1.geometry.qform)
        XCTAssertEqual(header.geometry.sformCode, t1.geometry.sformCode)
        XCTAssertEqual(header.geometry.qformCode, t1.geometry.qformCode)
        XCTAssertEqual(header.geometry.spacing, t1.geometry.spacing)
        XCTAssertEqual(header.descrip, result.summary)
        XCTAssertEqual(try Nifti.readLabels(out).voxels, result.labels.voxels)

        // The probability file: 4-D float32, dims (nx, ny, nz, 4), channel-major data.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prob)))
        func i16(_ o: Int) -> Int16 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Int16.self) } }
        func f32(_ o: Int) -> Float { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Float.self) } }
        let g = result.labels.shape
        XCTAssertEqual([i16(40), i16(42), i16(44), i16(46), i16(48)], [4, Int16(g.nx), Int16(g.ny), Int16(g.nz), 4])
        XCTAssertEqual(i16(70), 16)  // float32
        XCTAssertEqual(bytes.count, 352 + 4 * 4 * g.count)
        let probs = try XCTUnwrap(result.probabilities)
        for c in 0..<4 {
            for i in stride(from: 0, to: g.count, by: 97) {
                XCTAssertEqual(f32(352 + 4 * (c * g.count + i)), probs[c].voxels[i])
            }
        }
    }

    func testBadOutputsFailBeforeAnythingIsWritten() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try writeCase(dir, modalities: Modality.pairA)
        let inputs = Array(paths.values)
        XCTAssertThrowsError(try AtomicFile.checkDestinations([dir.appendingPathComponent("missing/seg.nii.gz").path], inputs: inputs))
        XCTAssertThrowsError(try AtomicFile.checkDestinations([dir.path], inputs: inputs))
        XCTAssertThrowsError(try AtomicFile.checkDestinations([paths[.t1]!], inputs: inputs)) { error in
            XCTAssertTrue("\(error)".contains("is also an input"), "\(error)")
        }
        let out = dir.appendingPathComponent("seg.nii.gz").path
        XCTAssertThrowsError(try AtomicFile.checkDestinations([out, out], inputs: inputs))

        // A probability path that cannot be written: neither file appears.
        var options = SegmentationOptions()
        options.window.patch = Shape3(16, 16, 16)
        options.keepProbabilities = true
        var model = LinearSoftmaxPredictor()
        model.modalities = Modality.pairA
        model.weights = model.weights.map { Array($0.prefix(2)) }
        let result = try Segmenter.segment(try CaseInput(files: paths), predictor: model, options: options)
        XCTAssertThrowsError(try result.write(labelsTo: out, probabilitiesTo: dir.appendingPathComponent("nope/p.nii.gz").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix("case_") }
        XCTAssertEqual(leftovers, [])
    }

    func testOutputNamesAreCheckedBeforeTheWork() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try writeCase(dir)
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles, context: ForwardContext(threads: 1))
        var options = SegmentationOptions(for: model)
        options.window.patch = Shape3(16, 16, 16)
        let polls = Counter()
        let control = InferenceControl(isCancelled: { polls.increment() < 0 })
        for (labels, probabilities) in [("seg.txt", nil), ("seg.hdr", nil), ("seg.nii.gz", "p.img")] {
            XCTAssertThrowsError(try model.segmentFiles(paths, output: dir.appendingPathComponent(labels).path,
                                                        probabilitiesPath: probabilities.map { dir.appendingPathComponent($0).path },
                                                        options: options, control: control)) { e in
                guard case CMFError.invalidArgument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains("as a single .nii or .nii.gz file"), m)
            }
        }
        XCTAssertEqual(polls.value, 0, "refused before any work")
    }

    func testFourDimensionalAndMismatchedInputsAreRejected() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths = try writeCase(dir, modalities: Modality.pairA)
        // A 4-D image (written with the channel writer) is refused by the reader.
        let v = try Nifti.readImage(paths[.t1]!)
        let fourD = dir.appendingPathComponent("t1ce_4d.nii.gz").path
        try Nifti.write(channels: [v, v], to: fourD)
        paths[.t1ce] = fourD
        XCTAssertThrowsError(try CaseInput(files: paths)) { error in
            guard case CMFError.shape = error else { return XCTFail("\(error)") }
        }
        // Mismatched grid.
        let small = ImageVolume(shape: Shape3(10, 10, 10), geometry: v.geometry, repeating: 1)
        let smallPath = dir.appendingPathComponent("t1ce_small.nii.gz").path
        try Nifti.write(small, to: smallPath)
        paths[.t1ce] = smallPath
        let input = try CaseInput(files: paths)
        var model = LinearSoftmaxPredictor()
        model.modalities = Modality.pairA
        model.weights = model.weights.map { Array($0.prefix(2)) }
        XCTAssertThrowsError(try Segmenter.segment(input, predictor: model)) { error in
            guard case CMFError.shape(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("t1ce_small.nii.gz"), m)
        }
    }
}
