@testable import CMFSeg
import TestSupport
import XCTest

/// Oracle: numpy following the authors' utils/dataset.py (Tests/Scripts/make_preprocess_fixtures.py).
final class PreprocessTests: XCTestCase {
    func loadCase() throws -> (CaseInput, [String: Any]) {
        let meta = try RawFixtures.json("preprocess/cases.json")
        let dims = try XCTUnwrap(meta["shape_xyz"] as? [Int])
        let shape = Shape3(dims[0], dims[1], dims[2])
        let all = try RawFixtures.floats("preprocess/case_inputs.f32")
        XCTAssertEqual(all.count, 4 * shape.count)
        var volumes: [Modality: ImageVolume] = [:]
        for (i, m) in Modality.allCases.enumerated() {
            volumes[m] = ImageVolume(shape: shape, geometry: Geometry(spacing: SIMD3(1, 1, 1.5)),
                                     voxels: Array(all[(i * shape.count)..<((i + 1) * shape.count)]))
        }
        return (CaseInput(volumes: volumes), meta)
    }

    func testPercentileMatchesNumpyLinear() throws {
        let meta = try RawFixtures.json("preprocess/cases.json")
        let cases = try XCTUnwrap(meta["percentiles"] as? [[String: Any]])
        for c in cases {
            let values = try XCTUnwrap(c["values"] as? [Double]).map(Float.init)
            let qs = try XCTUnwrap(c["q"] as? [Double]), expected = try XCTUnwrap(c["expected"] as? [Double])
            for (q, e) in zip(qs, expected) {
                let got = try XCTUnwrap(Percentile.linear(sorted: values, q))
                XCTAssertEqual(got, e, accuracy: 1e-12, "n=\(values.count) q=\(q)")
            }
            var shuffled = values.reversed().map { $0 }
            let selected = try XCTUnwrap(Percentile.linear(selectingIn: &shuffled, qs))
            for (got, e) in zip(selected, expected) {
                XCTAssertEqual(got, e, accuracy: 1e-12, "selection, n=\(values.count)")
            }
        }
        XCTAssertNil(Percentile.linear(sorted: [], 50))
        var none: [Float] = []
        XCTAssertNil(Percentile.linear(selectingIn: &none, [50]))
    }

    /// Selection gives what a sort gives, bit for bit, on inputs that trouble quickselects:
    /// many ties (integer-valued MRI), sorted, reversed, organ-pipe, all equal, tiny arrays.
    func testPercentileBySelectionEqualsSorting() throws {
        var rng = SeededRandom(seed: 7)
        func uniform(_ n: Int, levels: Int) -> [Float] { (0..<n).map { _ in Float(Int.random(in: 0..<levels, using: &rng)) } }
        var inputs: [[Float]] = [[3], [2, 1], [5, 5, 5, 5], uniform(1000, levels: 3), uniform(50_000, levels: 4096),
                                 (0..<20_000).map(Float.init), (0..<20_000).reversed().map(Float.init),
                                 (0..<20_000).map { Float(min($0, 20_000 - $0)) }, [Float](repeating: 7, count: 30_000)]
        inputs.append((0..<4096).map { _ in Float(rng.normal()) })
        let qs: [Double] = [98, 2, 0, 100, 50, 2, 37.5]
        for values in inputs {
            let sorted = values.sorted()
            var work = values
            let got = try XCTUnwrap(Percentile.linear(selectingIn: &work, qs))
            for (q, g) in zip(qs, got) {
                XCTAssertEqual(g, Percentile.linear(sorted: sorted, q), "n=\(values.count) q=\(q)")
            }
            XCTAssertEqual(work.sorted(), sorted, "selection only permutes")
        }
        var withNaN: [Float] = [1, .nan, 3, .nan, 2] + (0..<100).map { Float($0 % 7) }
        XCTAssertNotNil(Percentile.linear(selectingIn: &withNaN, [2, 98]), "NaNs give some value, never a crash")
    }

    func testPreprocessMatchesNumpy() throws {
        let (input, meta) = try loadCase()
        let cases = try XCTUnwrap(meta["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let minimum = try XCTUnwrap(c["minimum_xyz"] as? [Int])
            let multiple = try XCTUnwrap(c["multiple"] as? Int)
            let box = try XCTUnwrap(c["box_xyz"] as? [[Int]])
            let padded = try XCTUnwrap(c["padded_xyz"] as? [Int])
            var options = PreprocessOptions()
            options.normalization = (c["normalization"] as? String) == "nonzero" ? .nonZeroStd : .authors
            let p = try Preprocessor.run(input, modalities: Modality.allCases, options: options,
                                         minimumSize: Shape3(minimum[0], minimum[1], minimum[2]), sizeMultiple: multiple)
            XCTAssertEqual(p.box, Box3(lower: SIMD3(box[0][0], box[1][0], box[2][0]), upper: SIMD3(box[0][1], box[1][1], box[2][1])), name)
            XCTAssertEqual(p.paddedShape, Shape3(padded[0], padded[1], padded[2]), name)
            XCTAssertEqual(p.input.shape, [1, 4, padded[2], padded[1], padded[0]], name)
            let expected = try RawFixtures.floats("preprocess/\(name).f32")
            XCTAssertEqual(expected.count, p.input.count)
            var worst: Float = 0
            for (a, b) in zip(p.input.storage, expected) {
                XCTAssertEqual(a == 0, b == 0, "\(name): background must stay exactly 0")
                worst = max(worst, abs(a - b) / max(1, abs(b)))
            }
            XCTAssertLessThan(worst, 2e-6, name)
        }
    }

    func testMismatchedGridsAreRejected() throws {
        let (good, _) = try loadCase()
        var input = good
        let t2 = try XCTUnwrap(input.volumes[.t2])
        input.volumes[.t2] = ImageVolume(shape: Shape3(t2.shape.nx, t2.shape.ny, t2.shape.nz - 1), geometry: t2.geometry,
                                         voxels: Array(t2.voxels.prefix(t2.shape.nx * t2.shape.ny * (t2.shape.nz - 1))))
        input.sources[.t2] = "case_t2.nii.gz"
        XCTAssertThrowsError(try Preprocessor.run(input, modalities: Modality.allCases)) { error in
            guard case CMFError.shape(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("case_t2.nii.gz") && m.contains("not on the same grid: dims differ"), m)
        }
        input = good
        var flair = try XCTUnwrap(input.volumes[.flair])
        flair.geometry = Geometry(spacing: SIMD3(1, 1, 1))
        input.volumes[.flair] = flair
        XCTAssertThrowsError(try Preprocessor.run(input, modalities: Modality.allCases)) { error in
            guard case CMFError.shape(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("not on the same grid: spacing"), m)
        }
    }

    func testNonFiniteValuesAreAnErrorByDefaultAndZeroWhenAsked() throws {
        let (good, _) = try loadCase()
        var input = good
        var t1 = try XCTUnwrap(input.volumes[.t1])
        let i = t1.voxels.firstIndex { $0 != 0 }!
        t1.voxels[i] = .nan
        t1.voxels[i + 1] = .infinity
        input.volumes[.t1] = t1
        input.sources[.t1] = "case_t1.nii.gz"
        XCTAssertThrowsError(try Preprocessor.run(input, modalities: Modality.allCases)) { error in
            guard case CMFError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("case_t1.nii.gz") && m.contains("2 NaN or infinite voxels") && m.contains("--nonfinite-to-zero"), m)
        }
        var options = PreprocessOptions()
        options.nonFinite = .replaceWithZero
        let p = try Preprocessor.run(input, modalities: Modality.allCases, options: options)
        XCTAssertTrue(p.input.storage.allSatisfy(\.isFinite))
        // The replaced voxels are background now: zero in channel 0 and outside the brain mask.
        XCTAssertEqual(p.brainMask[i], 0)
        XCTAssertEqual(p.brainMask[i + 1], 0)
    }

    func testEmptyOrConstantInputIsRejected() throws {
        let shape = Shape3(8, 8, 8)
        let zero = ImageVolume(shape: shape, geometry: Geometry(), repeating: 0)
        let input = CaseInput(volumes: [.t1: zero, .t1ce: zero])
        XCTAssertThrowsError(try Preprocessor.run(input, modalities: [.t1, .t1ce])) { error in
            XCTAssertTrue(error.localizedDescription.contains("no voxel is non-zero") || "\(error)".contains("no voxel is non-zero"), "\(error)")
        }
        let constant = ImageVolume(shape: shape, geometry: Geometry(), repeating: 3)
        XCTAssertThrowsError(try Preprocessor.run(CaseInput(volumes: [.t1: constant, .t1ce: constant]), modalities: [.t1, .t1ce])) { error in
            XCTAssertTrue("\(error)".contains("constant intensity"), "\(error)")
        }
        XCTAssertThrowsError(try Preprocessor.run(CaseInput(volumes: [:]), modalities: [.t1]))
    }

    /// Modalities normalised at once give the serial result bit for bit, and the error of the
    /// first failing modality in channel order.
    func testThreadsChangeNothing() throws {
        let (input, _) = try loadCase()
        let serial = try Preprocessor.run(input, modalities: Modality.allCases, minimumSize: Shape3(16, 16, 16))
        for threads in [0, 2, 4] {
            let parallel = try Preprocessor.run(input, modalities: Modality.allCases, minimumSize: Shape3(16, 16, 16), threads: threads)
            XCTAssertEqual(Array(parallel.input.storage), Array(serial.input.storage), "threads \(threads)")
        }
        var bad = input
        for m in [Modality.t2, .flair] {
            var v = try XCTUnwrap(bad.volumes[m])
            v.voxels = v.voxels.map { $0 == 0 ? 0 : 5 }
            bad.volumes[m] = v
            bad.sources[m] = "case_\(m.rawValue).nii.gz"
        }
        var options = PreprocessOptions()
        options.normalization = .nonZeroStd  // constant over its non-zero voxels: std 0
        for threads in [1, 4] {
            XCTAssertThrowsError(try Preprocessor.run(bad, modalities: Modality.allCases, options: options, threads: threads)) { error in
                XCTAssertTrue("\(error)".contains("t2 (case_t2.nii.gz) has a constant intensity"), "\(error)")
            }
        }
    }

    func testMissingModalityIsNamed() throws {
        let (good, _) = try loadCase()
        var input = good
        input.volumes[.t1ce] = nil
        XCTAssertThrowsError(try Preprocessor.run(input, modalities: Modality.allCases)) { error in
            XCTAssertTrue("\(error)".contains("needs t1ce"), "\(error)")
        }
        // The other pair alone is fine.
        let p = try Preprocessor.run(input, modalities: Modality.pairB, minimumSize: Shape3(16, 16, 16))
        XCTAssertEqual(p.input.shape[1], 2)
    }

    func testBoxExtractAndPasteRoundTrip() {
        let grid = Shape3(5, 4, 3)
        let voxels = (0..<grid.count).map { Int($0) }
        let box = Box3(lower: SIMD3(1, 1, 0), upper: SIMD3(4, 3, 2))
        let part = box.extract(from: voxels, grid: grid)
        XCTAssertEqual(part, [6, 7, 8, 11, 12, 13, 26, 27, 28, 31, 32, 33])
        var back = [Int](repeating: -1, count: grid.count)
        box.paste(part, into: &back, grid: grid)
        for z in 0..<3 { for y in 0..<4 { for x in 0..<5 {
            let inside = x >= 1 && x < 4 && y >= 1 && y < 3 && z < 2
            XCTAssertEqual(back[grid.index(x, y, z)], inside ? voxels[grid.index(x, y, z)] : -1)
        } } }
    }
}
