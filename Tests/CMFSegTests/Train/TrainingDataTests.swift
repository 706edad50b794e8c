@testable import CMFSeg
import CCMFKernels
import Foundation
import TestSupport
import XCTest

/// Loading case folders, patch sampling, augmentation and prefetching.
final class TrainingDataTests: XCTestCase {
    // MARK: Fixtures

    /// A small BraTS-like case: an ellipsoidal brain (radii 0.42 of the grid) with textured
    /// intensities per modality, and a spherical tumour of radius `radius` around `centre`:
    /// NCR/NET (1) inside 0.4 r, enhancing (4) inside 0.7 r, edema (2) inside r.
    struct SyntheticTrainingCase {
        var shape: Shape3
        var images: [Modality: [Float]]
        var seg: [UInt8]

        init(shape: Shape3, centre: SIMD3<Double>, radius: Double) {
            self.shape = shape
            var images: [Modality: [Float]] = [:]
            var seg = [UInt8](repeating: 0, count: shape.count)
            let c = SIMD3(Double(shape.nx), Double(shape.ny), Double(shape.nz)) / 2
            for (m, modality) in Modality.allCases.enumerated() {
                var v = [Float](repeating: 0, count: shape.count)
                for z in 0..<shape.nz { for y in 0..<shape.ny { for x in 0..<shape.nx {
                    let p = SIMD3(Double(x), Double(y), Double(z))
                    let b = (p - c) / (0.42 * SIMD3(Double(shape.nx), Double(shape.ny), Double(shape.nz)))
                    guard (b * b).sum() <= 1 else { continue }
                    let d = ((p - centre) * (p - centre)).sum().squareRoot()
                    var label: UInt8 = 0
                    if d < radius { label = d < 0.4 * radius ? 1 : d < 0.7 * radius ? 4 : 2 }
                    let tumour: Double = label == 0 ? 0 : label == 2 ? (m >= 2 ? 80 : 10) : (m == 1 ? 90 : 40)
                    let texture = 10 * sin(Double(x) / 3 + Double(m)) + 8 * cos(Double(y + 2 * z) / 5)
                    v[shape.index(x, y, z)] = Float(100 + 20 * Double(m) + texture + tumour)
                    if m == 0 { seg[shape.index(x, y, z)] = label }
                } } }
                images[modality] = v
            }
            self.images = images
            self.seg = seg
        }

        /// Writes `<dir>/<name>/<name>_{t1,t1ce,t2,flair,seg}.nii.gz`.
        @discardableResult
        func write(to dir: URL, name: String, segShape: Shape3? = nil, seg: [UInt8]? = nil) throws -> CaseFolder {
            let files = PhantomCase.files(name: name, in: dir)
            try FileManager.default.createDirectory(at: files.folder, withIntermediateDirectories: true)
            for (m, v) in images {
                try Nifti.write(ImageVolume(shape: shape, geometry: Geometry(), voxels: v), to: files.images[m]!.path)
            }
            try Nifti.write(LabelMap(shape: segShape ?? shape, geometry: Geometry(), voxels: seg ?? self.seg), to: files.seg.path)
            return try CaseFolder(files.folder.path)
        }
    }

    let smallShape = Shape3(40, 36, 30)

    func scratch(_ name: String = #function) throws -> URL {
        let dir = try Fixtures.scratchDirectory(name)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Two small cases written into a fresh folder (names out of order on purpose).
    func twoCases() throws -> URL {
        let dir = try scratch()
        try SyntheticTrainingCase(shape: smallShape, centre: SIMD3(22, 17, 15), radius: 6).write(to: dir, name: "case_b")
        try SyntheticTrainingCase(shape: Shape3(36, 40, 34), centre: SIMD3(15, 20, 18), radius: 5).write(to: dir, name: "case_a")
        return dir
    }

    func assertRefused(_ body: @autoclosure () throws -> Any, kind: String, mentions words: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? CMFError else { return XCTFail("not a CMFError: \(error)", file: file, line: line) }
            let k: String
            switch e {
            case .invalidArgument: k = "invalidArgument"
            case .shape: k = "shape"
            case .format: k = "format"
            case .io: k = "io"
            default: k = "other"
            }
            XCTAssertEqual(k, kind, e.message, file: file, line: line)
            for w in words { XCTAssertTrue(e.message.contains(w), "'\(w)' not in: \(e.message)", file: file, line: line) }
        }
    }

    // MARK: Loading

    func testLoadingMatchesThePreprocessorOfInference() throws {
        let dir = try twoCases()
        let patch = Shape3(32, 32, 32)
        let modalities: [Modality] = [.flair, .t1, .t2]
        let ds = try TrainingDataset.load(folder: dir.path, modalities: modalities, minimumSize: patch, threads: 2)
        XCTAssertEqual(ds.cases.map(\.name), ["case_a", "case_b"])
        XCTAssertEqual(ds.modalities, modalities)
        XCTAssertEqual(ds.classValues, [0, 2, 1, 4])
        var bytes = 0
        for c in ds.cases {
            let folder = try CaseFolder(dir.appendingPathComponent(c.name).path)
            let input = try CaseInput(files: folder.images.filter { modalities.contains($0.key) })
            let p = try Preprocessor.run(input, modalities: modalities, minimumSize: patch)
            XCTAssertEqual(c.shape, p.paddedShape, c.name)
            XCTAssertEqual(c.box, p.box, c.name)
            XCTAssertEqual(c.modalities, modalities)
            guard case .float32(let values) = c.channels else { return XCTFail("float32 storage expected") }
            XCTAssertEqual(values, Array(p.input.storage), "\(c.name): channels must be exactly the pre-processor's")
            XCTAssertTrue(p.box.shape != p.paddedShape, "\(c.name): the fixture should exercise padding")
            XCTAssertTrue(p.box.shape != p.gridShape, "\(c.name): the fixture should exercise cropping")

            // Labels: BraTS values → class order, cropped by the box, zero-padded.
            let seg = try Nifti.readLabels(try XCTUnwrap(folder.seg))
            let mapped = seg.voxels.map { UInt8([0, 2, 1, 4].firstIndex(of: Int($0))!) }
            var expected = [UInt8](repeating: 0, count: p.paddedShape.count)
            Box3(covering: p.box.shape).paste(p.box.extract(from: mapped, grid: seg.shape), into: &expected, grid: p.paddedShape)
            XCTAssertEqual(c.labels, expected, c.name)
            XCTAssertEqual(Set(c.labels), [0, 1, 2, 3], "\(c.name): every class present")
            XCTAssertEqual(c.labelsOutsideBox, 0)
            // An ET voxel (BraTS 4) is class 3, an edema voxel (2) class 1, NCR (1) class 2.
            for (v, k) in [(4, 3), (2, 1), (1, 2)] {
                let i = try XCTUnwrap(seg.voxels.firstIndex(of: UInt8(v)))
                let (x, y, z) = (i % seg.shape.nx, (i / seg.shape.nx) % seg.shape.ny, i / (seg.shape.nx * seg.shape.ny))
                let l = p.box.lower
                XCTAssertEqual(c.labels[c.shape.index(x - l.x, y - l.y, z - l.z)], UInt8(k))
            }

            // Foreground index: every labelled voxel once, grouped by class.
            XCTAssertEqual(c.foreground.count, c.labels.filter { $0 != 0 }.count)
            for k in 1...3 {
                let f = c.foreground(ofClass: k)
                XCTAssertEqual(f.count, c.labels.filter { $0 == k }.count)
                XCTAssertTrue(f.allSatisfy { c.labels[Int($0)] == k })
                XCTAssertEqual(Array(f), f.sorted())
            }
            bytes += values.count * 4 + c.labels.count + c.foreground.count * 4

            // The same case prepared in memory.
            let m = try TrainingCase(name: c.name, input: input, labels: seg, modalities: modalities, minimumSize: patch)
            XCTAssertEqual(m.channels.floats, values)
            XCTAssertEqual(m.labels, c.labels)
            XCTAssertEqual(m.foreground, c.foreground)
            XCTAssertEqual(m.foregroundCounts, c.foregroundCounts)
            let shifted = LabelMap(shape: Shape3(seg.shape.nx + 1, seg.shape.ny, seg.shape.nz), geometry: seg.geometry, repeating: 0)
            assertRefused(try TrainingCase(name: c.name, input: input, labels: shifted, labelSource: "shifted.nii",
                                           modalities: modalities, minimumSize: patch),
                          kind: "shape", mentions: ["shifted.nii", "not on the same grid"])
        }
        XCTAssertEqual(ds.memoryBytes, bytes)
    }

    func testLoadingReportsProgressAndAcceptsSeveralFolders() throws {
        let a = try scratch(), b = try scratch("second")
        let s = SyntheticTrainingCase(shape: smallShape, centre: SIMD3(20, 18, 15), radius: 5)
        try s.write(to: a, name: "x1")
        try s.write(to: b, name: "x0")
        let seen = LockedList()
        let ds = try TrainingDataset.load(folders: [a.path, b.path], minimumSize: Shape3(16, 16, 16), threads: 1) {
            seen.append("\($0)/\($1) \($2)")
        }
        XCTAssertEqual(ds.cases.map(\.name), ["x0", "x1"])
        XCTAssertEqual(Set(seen.items), ["1/2 x0", "2/2 x1"])
        try s.write(to: b, name: "x1")
        assertRefused(try TrainingDataset.load(folders: [a.path, b.path], minimumSize: Shape3(16, 16, 16)),
                      kind: "invalidArgument", mentions: ["two case folders are named x1"])
    }

    func testLoadingRefusesAMissingModality() throws {
        let dir = try twoCases()
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("case_b/case_b_t1ce.nii.gz").path)
        assertRefused(try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "invalidArgument", mentions: ["case case_b", "t1ce", "case_b_t1ce.nii.gz"])
        // Not needed when the modality is not asked for.
        XCTAssertEqual(try TrainingDataset.load(folder: dir.path, modalities: [.t2, .flair], minimumSize: Shape3(32, 32, 32)).cases.count, 2)
        // The label map is always needed.
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("case_a/case_a_seg.nii.gz").path)
        assertRefused(try TrainingDataset.load(folder: dir.path, modalities: [.t2, .flair], minimumSize: Shape3(32, 32, 32)),
                      kind: "invalidArgument", mentions: ["case case_a", "case_a_seg.nii.gz"])
    }

    func testLoadingRefusesALabelMapOnAnotherGrid() throws {
        let dir = try scratch()
        let s = SyntheticTrainingCase(shape: smallShape, centre: SIMD3(20, 18, 15), radius: 5)
        try s.write(to: dir, name: "ok")
        let other = Shape3(smallShape.nx, smallShape.ny, smallShape.nz + 1)
        try s.write(to: dir, name: "shifted", segShape: other, seg: [UInt8](repeating: 0, count: other.count))
        assertRefused(try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "shape", mentions: ["case shifted", "shifted_seg.nii.gz", "not on the same grid"])
    }

    func testLoadingRefusesUnknownLabelValuesWithTheirCounts() throws {
        let dir = try scratch()
        let s = SyntheticTrainingCase(shape: smallShape, centre: SIMD3(20, 18, 15), radius: 5)
        var seg = s.seg
        for i in 0..<7 { seg[i] = 3 }
        seg[100] = 9
        try s.write(to: dir, name: "brats23", seg: seg)
        assertRefused(try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "format", mentions: ["case brats23", "brats23_seg.nii.gz", "3 (7 voxels)", "9 (1 voxel)", "[0, 2, 1, 4]"])
        // Under BraTS 2023's classes, 4 is the unknown one and 3 is fine, 9 still not.
        assertRefused(try TrainingDataset.load(folder: dir.path, classValues: [0, 2, 1, 3], minimumSize: Shape3(32, 32, 32)),
                      kind: "format", mentions: ["case brats23", "4 (", "9 (1 voxel)"])
    }

    func testLoadingRefusesNonFiniteVoxelsAndEmptyFolders() throws {
        let dir = try scratch()
        var s = SyntheticTrainingCase(shape: smallShape, centre: SIMD3(20, 18, 15), radius: 5)
        s.images[.flair]![smallShape.index(20, 18, 15)] = .nan
        try s.write(to: dir, name: "nan_case")
        assertRefused(try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "invalidArgument", mentions: ["case nan_case", "nan_case_flair.nii.gz", "NaN"])
        var replace = PreprocessOptions()
        replace.nonFinite = .replaceWithZero
        XCTAssertEqual(try TrainingDataset.load(folder: dir.path, preprocess: replace, minimumSize: Shape3(32, 32, 32)).cases.count, 1)

        let empty = try scratch("empty")
        try Data("a,b\n".utf8).write(to: empty.appendingPathComponent("name_mapping.csv"))
        assertRefused(try TrainingDataset.load(folder: empty.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "invalidArgument", mentions: ["no case folder", empty.path])
        assertRefused(try TrainingDataset.load(folder: empty.appendingPathComponent("absent").path, minimumSize: Shape3(32, 32, 32)),
                      kind: "io", mentions: ["absent"])
    }

    func testEveryRefusedCaseIsListed() throws {
        let dir = try scratch()
        let s = SyntheticTrainingCase(shape: smallShape, centre: SIMD3(20, 18, 15), radius: 5)
        for name in ["a", "b", "c"] { try s.write(to: dir, name: name) }
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("a/a_t2.nii.gz").path)
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("c/c_flair.nii.gz").path)
        assertRefused(try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(32, 32, 32)),
                      kind: "invalidArgument", mentions: ["case a: ", "a_t2.nii.gz", "case c: ", "c_flair.nii.gz", "2 of 3 cases refused"])
    }

    func testCaseFolderNames() throws {
        let dir = try scratch()
        let folder = dir.appendingPathComponent("BraTS-GLI-00000-000")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for role in ["t1n", "t1c", "t2w", "t2f", "seg"] {
            try Data().write(to: folder.appendingPathComponent("BraTS-GLI-00000-000-\(role).nii.gz"))
        }
        let c = try CaseFolder(folder.path)
        XCTAssertEqual(c.name, "BraTS-GLI-00000-000")
        XCTAssertEqual(c.images[.t1ce].map { URL(fileURLWithPath: $0).lastPathComponent }, "BraTS-GLI-00000-000-t1c.nii.gz")
        XCTAssertEqual(c.images[.flair].map { URL(fileURLWithPath: $0).lastPathComponent }, "BraTS-GLI-00000-000-t2f.nii.gz")
        XCTAssertNotNil(c.seg)
        try Data().write(to: folder.appendingPathComponent("BraTS-GLI-00000-000_t2.nii"))
        assertRefused(try CaseFolder(folder.path), kind: "invalidArgument", mentions: ["BraTS-GLI-00000-000_t2.nii", "-t2w.nii.gz", "keep one"])
    }

    // MARK: Sampling

    /// A case built in memory (no files): 4 channels of distinct values, labels in a block.
    func memoryCase(_ shape: Shape3, name: String = "m", labelled: Box3?, storage: TrainingDataset.Storage = .float32,
                    seed: UInt64 = 1) -> TrainingCase {
        var rng = SeededRandom(seed: seed)
        var values = [Float](repeating: 0, count: 4 * shape.count)
        for i in values.indices { values[i] = Float(rng.uniform(-3, 3)) }
        // Some background zeros: the first x column of each row.
        for c in 0..<4 { for z in 0..<shape.nz { for y in 0..<shape.ny { values[c * shape.count + shape.index(0, y, z)] = 0 } } }
        var labels = [UInt8](repeating: 0, count: shape.count)
        if let b = labelled {
            for z in b.lower.z..<b.upper.z { for y in b.lower.y..<b.upper.y { for x in b.lower.x..<b.upper.x {
                labels[shape.index(x, y, z)] = UInt8(1 + (x + y + z) % 3)
            } } }
        }
        let fg = TrainingCase.foregroundIndex(labels, classCount: 4)
        return TrainingCase(name: name, shape: shape, modalities: Modality.allCases,
                            channels: storage == .float32 ? .float32(values) : .halving(values), labels: labels,
                            foreground: fg.indices, foregroundCounts: fg.counts, box: Box3(covering: shape), gridShape: shape)
    }

    func memoryDataset(_ cases: [TrainingCase], storage: TrainingDataset.Storage = .float32) throws -> TrainingDataset {
        try TrainingDataset(cases: cases, modalities: Modality.allCases, classValues: [0, 2, 1, 4], storage: storage)
    }

    func testBatchOfAStepIsAPureFunctionOfSeedAndStep() throws {
        let ds = try memoryDataset([memoryCase(Shape3(48, 40, 36), name: "a", labelled: Box3(lower: SIMD3(5, 6, 7), upper: SIMD3(12, 10, 11))),
                                    memoryCase(Shape3(40, 52, 32), name: "b", labelled: nil, seed: 2)])
        let all = AugmentationOptions(probability: 1)
        let s1 = try PatchSampler(dataset: ds, patch: Shape3(32, 32, 16), seed: 42, augmentation: all)
        let s2 = try PatchSampler(dataset: ds, patch: Shape3(32, 32, 16), seed: 42, augmentation: all)
        let other = try PatchSampler(dataset: ds, patch: Shape3(32, 32, 16), seed: 43, augmentation: all)
        for step in [0, 1, 7, 1000, 123_456] {
            let a = s1.batch(step: step), b = s2.batch(step: step), c = s1.batch(step: step)
            for x in [b, c] {
                XCTAssertEqual(a.input.shape, [1, 4, 16, 32, 32])
                XCTAssertEqual(a.input.storage.map(\.bitPattern), x.input.storage.map(\.bitPattern), "step \(step)")
                XCTAssertEqual(a.labels, x.labels)
                XCTAssertEqual(a.caseIndex, x.caseIndex)
                XCTAssertEqual(a.origin, x.origin)
                XCTAssertEqual(a.augmentation, x.augmentation)
                XCTAssertEqual(a.step, step)
            }
            XCTAssertNotNil(a.augmentation.scale)
            XCTAssertNotNil(a.augmentation.biasAmplitude)
            XCTAssertNotEqual(a.input.storage, s1.batch(step: step + 1).input.storage, "steps \(step), \(step + 1)")
            XCTAssertNotEqual(a.input.storage, other.batch(step: step).input.storage, "seeds 42, 43")
        }
        // The draw is the same from another thread.
        let fromThread = LockedBox<TrainingBatch>()
        let t = Thread { fromThread.set(s1.batch(step: 7)) }
        t.start()
        let b7 = s1.batch(step: 7)
        let other7 = fromThread.wait()
        XCTAssertEqual(b7.input.storage.map(\.bitPattern), other7.input.storage.map(\.bitPattern))
    }

    func testPrefetcherYieldsTheSamplerBatchesInOrder() throws {
        let ds = try memoryDataset([memoryCase(Shape3(48, 40, 36), labelled: Box3(lower: SIMD3(5, 6, 7), upper: SIMD3(12, 10, 11)))])
        let sampler = try PatchSampler(dataset: ds, patch: Shape3(16, 16, 16), seed: 9)
        for depth in [1, 3] {
            let prefetcher = BatchPrefetcher(sampler: sampler, firstStep: 5, depth: depth)
            for k in 0..<6 {
                let b = prefetcher.next()
                let expected = sampler.batch(step: 5 + k)
                XCTAssertEqual(b.step, 5 + k)
                XCTAssertEqual(b.input.storage.map(\.bitPattern), expected.input.storage.map(\.bitPattern), "step \(5 + k)")
                XCTAssertEqual(b.labels, expected.labels)
            }
            XCTAssertTrue(prefetcher.isRunning)
            prefetcher.stop()
            XCTAssertFalse(prefetcher.isRunning, "stop() returns after the thread has exited")
            prefetcher.stop()
            // After stop, next() draws on the caller's thread and keeps counting.
            XCTAssertEqual(prefetcher.next().input.storage, sampler.batch(step: 11).input.storage)
            XCTAssertEqual(prefetcher.next().step, 12)
        }
        // Released without stop(): deinit ends the thread.
        weak var weakState: AnyObject?
        do {
            let p = BatchPrefetcher(sampler: sampler, firstStep: 0)
            _ = p.next()
            weakState = p
        }
        XCTAssertNil(weakState)
    }

    func testForegroundOversampling() throws {
        // A 96×96×80 case with a tumour of radius 2.5 near a corner: a uniform 16³ patch
        // rarely contains it.
        let shape = Shape3(96, 96, 80)
        let dir = try scratch()
        try SyntheticTrainingCase(shape: shape, centre: SIMD3(30, 62, 28), radius: 2.5).write(to: dir, name: "small")
        let ds = try TrainingDataset.load(folder: dir.path, minimumSize: Shape3(16, 16, 16))
        let c = ds.cases[0]
        XCTAssertGreaterThan(c.foreground.count, 20)
        XCTAssertLessThan(c.foreground.count, 200)
        let patch = Shape3(16, 16, 16), steps = 600
        func fraction(_ f: Double) throws -> (withForeground: Double, centred: Double) {
            let s = try PatchSampler(dataset: ds, patch: patch, seed: 3, foregroundFraction: f, augmentation: .none)
            var hits = 0, centred = 0
            for step in 0..<steps {
                let b = s.batch(step: step)
                if b.labels.contains(where: { $0 != 0 }) { hits += 1 }
                if b.centredOnForeground {
                    centred += 1
                    XCTAssertTrue(b.labels.contains(where: { $0 != 0 }), "a foreground-centred patch holds foreground")
                }
                XCTAssertTrue((0...(c.shape.nx - 16)).contains(b.origin.x) && (0...(c.shape.ny - 16)).contains(b.origin.y)
                              && (0...(c.shape.nz - 16)).contains(b.origin.z), "patch inside the case: \(b.origin)")
            }
            return (Double(hits) / Double(steps), Double(centred) / Double(steps))
        }
        let uniform = try fraction(0)
        let nnunet = try fraction(1.0 / 3)
        let always = try fraction(1)
        print("patches with foreground: uniform \(uniform.withForeground), 1/3 oversampling \(nnunet.withForeground), always \(always.withForeground)")
        XCTAssertLessThan(uniform.withForeground, 0.1)
        XCTAssertEqual(uniform.centred, 0)
        // Binomial(600, ≥ 1/3): standard deviation 0.02; bounds at about 4 of them.
        XCTAssertGreaterThan(nnunet.withForeground, 0.25)
        XCTAssertLessThan(nnunet.withForeground, 0.5)
        XCTAssertEqual(nnunet.centred, 1.0 / 3, accuracy: 0.08)
        XCTAssertEqual(always.withForeground, 1)
    }

    func testOversamplingPicksClassesEvenlyAndFallsBackWithoutForeground() throws {
        // Class 1 fills a big block, class 3 a single voxel: a class is drawn first, so class 3
        // is the centre about a third of the time.
        let shape = Shape3(64, 64, 48)
        var c = memoryCase(shape, labelled: nil)
        var labels = [UInt8](repeating: 0, count: shape.count)
        for z in 10..<30 { for y in 10..<40 { for x in 10..<40 { labels[shape.index(x, y, z)] = 1 } } }
        labels[shape.index(50, 50, 40)] = 3
        labels[shape.index(5, 50, 40)] = 2
        let fg = TrainingCase.foregroundIndex(labels, classCount: 4)
        c.labels = labels
        c.foreground = fg.indices
        c.foregroundCounts = fg.counts
        let empty = memoryCase(Shape3(32, 32, 32), name: "empty", labelled: nil)
        let s = try PatchSampler(dataset: try memoryDataset([c]), patch: Shape3(16, 16, 16), seed: 5, foregroundFraction: 1, augmentation: .none)
        var withET = 0
        for step in 0..<300 where s.batch(step: step).labels.contains(3) { withET += 1 }
        XCTAssertEqual(Double(withET) / 300, 1.0 / 3, accuracy: 0.1)
        let e = try PatchSampler(dataset: try memoryDataset([empty]), patch: Shape3(16, 16, 16), seed: 5, foregroundFraction: 1, augmentation: .none)
        for step in 0..<20 { XCTAssertFalse(e.batch(step: step).centredOnForeground) }
    }

    func testCropCopiesTheCaseAtTheOrigin() throws {
        let c = memoryCase(Shape3(40, 36, 33), labelled: Box3(lower: SIMD3(3, 4, 5), upper: SIMD3(30, 20, 25)))
        let s = try PatchSampler(dataset: try memoryDataset([c]), patch: Shape3(32, 16, 16), seed: 11, augmentation: .none)
        for step in 0..<8 {
            let b = s.batch(step: step)
            let o = b.origin, p = s.patch
            for ch in 0..<4 {
                let plane = c.channel(ch)
                for z in 0..<p.nz { for y in 0..<p.ny { for x in 0..<p.nx {
                    let got = b.input.storage[ch * p.count + p.index(x, y, z)]
                    XCTAssertEqual(got, plane[c.shape.index(o.x + x, o.y + y, o.z + z)])
                } } }
            }
            for z in 0..<p.nz { for y in 0..<p.ny { for x in 0..<p.nx {
                XCTAssertEqual(b.labels[p.index(x, y, z)], c.labels[c.shape.index(o.x + x, o.y + y, o.z + z)])
            } } }
        }
    }

    func testCropKernelsMatchTheirNaiveTwins() {
        var rng = SeededRandom(seed: 77)
        let (sx, sy, sz) = (13, 11, 9), channels = 2
        let f32 = (0..<(channels * sx * sy * sz)).map { _ in Float(rng.uniform(-100, 100)) }
        let f16 = f32.map { Float16($0).bitPattern }
        let u8 = f32.map { UInt8(abs(Int($0)) % 256) }
        for trial in 0..<40 {
            let (px, py, pz) = (1 + PatchSampler.below(sx, &rng), 1 + PatchSampler.below(sy, &rng), 1 + PatchSampler.below(sz, &rng))
            let (ox, oy, oz) = (PatchSampler.below(sx - px + 1, &rng), PatchSampler.below(sy - py + 1, &rng), PatchSampler.below(sz - pz + 1, &rng))
            let flips = (Int32(trial & 1), Int32((trial >> 1) & 1), Int32((trial >> 2) & 1))
            let n = channels * px * py * pz
            var a = [Float](repeating: 0, count: n), b = a, c = a, d = a
            var e = [UInt8](repeating: 0, count: n), f = e
            let args = (Int64(channels), Int64(sx), Int64(sy), Int64(sz), Int64(ox), Int64(oy), Int64(oz), Int64(px), Int64(py), Int64(pz))
            XCTAssertEqual(cmfk_patch_crop_f32(f32, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &a), 0)
            XCTAssertEqual(cmfk_patch_crop_f32_naive(f32, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &b), 0)
            XCTAssertEqual(cmfk_patch_crop_f16(f16, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &c), 0)
            XCTAssertEqual(cmfk_patch_crop_f16_naive(f16, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &d), 0)
            XCTAssertEqual(cmfk_patch_crop_u8(u8, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &e), 0)
            XCTAssertEqual(cmfk_patch_crop_u8_naive(u8, args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, flips.0, flips.1, flips.2, &f), 0)
            XCTAssertEqual(a, b)
            XCTAssertEqual(c, d)
            XCTAssertEqual(e, f)
        }
        var out = [Float](repeating: 0, count: 8)
        XCTAssertEqual(cmfk_patch_crop_f32(f32, 1, 13, 11, 9, 12, 0, 0, 2, 2, 2, 0, 0, 0, &out), -2, "box outside the grid")
        // Half to float: exact for normals, subnormals, zeros, infinities.
        for h: Float16 in [0, -0.0, 1, -2.5, 65504, .leastNonzeroMagnitude, -.leastNormalMagnitude, .infinity, 0.1, 1e-6] {
            XCTAssertEqual(cmfk_f16_to_f32(h.bitPattern).bitPattern, Float(h).bitPattern, "\(h)")
        }
        XCTAssertTrue(cmfk_f16_to_f32(Float16.nan.bitPattern).isNaN)
    }

    func testFlipsMirrorImageAndLabelsTogether() throws {
        let c = memoryCase(Shape3(40, 36, 33), labelled: Box3(lower: SIMD3(3, 4, 5), upper: SIMD3(30, 20, 25)))
        let ds = try memoryDataset([c])
        let patch = Shape3(32, 16, 16)
        // chance() draws one number whatever the probability, so both samplers pick the same
        // case and origin for a step.
        let plain = try PatchSampler(dataset: ds, patch: patch, seed: 21, foregroundFraction: 1, augmentation: .none)
        var flipOnly = AugmentationOptions.none
        flipOnly.flipProbability = 1
        let flipped = try PatchSampler(dataset: ds, patch: patch, seed: 21, foregroundFraction: 1, augmentation: flipOnly)
        for step in 0..<4 {
            let a = plain.batch(step: step), b = flipped.batch(step: step)
            XCTAssertEqual(a.origin, b.origin)
            XCTAssertTrue(b.augmentation.flipX && b.augmentation.flipY && b.augmentation.flipZ)
            let p = patch
            for z in 0..<p.nz { for y in 0..<p.ny { for x in 0..<p.nx {
                let i = p.index(x, y, z), m = p.index(p.nx - 1 - x, p.ny - 1 - y, p.nz - 1 - z)
                XCTAssertEqual(b.labels[i], a.labels[m])
                for ch in 0..<4 { XCTAssertEqual(b.input.storage[ch * p.count + i], a.input.storage[ch * p.count + m]) }
            } } }
            // A labelled voxel keeps its intensity: the image moved with the labels.
            let i = try XCTUnwrap(a.labels.firstIndex(of: 3))
            let (x, y, z) = (i % p.nx, (i / p.nx) % p.ny, i / (p.nx * p.ny))
            let m = p.index(p.nx - 1 - x, p.ny - 1 - y, p.nz - 1 - z)
            XCTAssertEqual(b.labels[m], 3)
            XCTAssertEqual(b.input.storage[m], a.input.storage[i])
        }
        // With probability 1/2, each axis is mirrored about half the time.
        let half = try PatchSampler(dataset: ds, patch: patch, seed: 21, augmentation: AugmentationOptions(probability: 0))
        let n = (0..<200).filter { half.batch(step: $0).augmentation.flipY }.count
        XCTAssertEqual(Double(n) / 200, 0.5, accuracy: 0.12)
    }

    func testIntensityAugmentationKeepsBackgroundAndLabels() throws {
        let c = memoryCase(Shape3(40, 36, 33), labelled: Box3(lower: SIMD3(3, 4, 5), upper: SIMD3(30, 20, 25)))
        let ds = try memoryDataset([c])
        let patch = Shape3(32, 32, 32)
        let plain = try PatchSampler(dataset: ds, patch: patch, seed: 8, augmentation: .none)
        func sampler(_ o: AugmentationOptions) throws -> PatchSampler {
            try PatchSampler(dataset: ds, patch: patch, seed: 8, augmentation: o)
        }
        let linear = try sampler(AugmentationOptions(flipProbability: 0, gamma: nil, biasField: nil, probability: 1))
        let gamma = try sampler(AugmentationOptions(flipProbability: 0, intensityScale: nil, intensityShift: nil, biasField: nil, probability: 1))
        let bias = try sampler(AugmentationOptions(flipProbability: 0, intensityScale: nil, intensityShift: nil, gamma: nil, probability: 1))
        let all = try sampler(AugmentationOptions(flipProbability: 0, probability: 1))
        for step in 0..<3 {
            let a = plain.batch(step: step)
            for s in [linear, gamma, bias, all] {
                let b = s.batch(step: step)
                XCTAssertEqual(b.labels, a.labels, "labels untouched")
                XCTAssertEqual(b.origin, a.origin)
                for (u, v) in zip(a.input.storage, b.input.storage) where u == 0 { XCTAssertEqual(v, 0, "background stays 0") }
                XCTAssertNotEqual(a.input.storage, b.input.storage)
            }
            // Scale and shift: v' = v · s + t per channel.
            let l = linear.batch(step: step)
            let scale = try XCTUnwrap(l.augmentation.scale), shift = try XCTUnwrap(l.augmentation.shift)
            XCTAssertTrue(scale.allSatisfy { (0.9...1.1).contains($0) } && shift.allSatisfy { (-0.1...0.1).contains($0) })
            for ch in 0..<4 {
                for i in stride(from: ch * patch.count, to: (ch + 1) * patch.count, by: 97) where a.input.storage[i] != 0 {
                    XCTAssertEqual(l.input.storage[i], Float(Double(a.input.storage[i]) * scale[ch] + shift[ch]), accuracy: 1e-5)
                }
            }
            // Gamma: monotone, keeps each channel's brain minimum and maximum.
            let g = gamma.batch(step: step)
            let gammas = try XCTUnwrap(g.augmentation.gamma)
            XCTAssertTrue(gammas.allSatisfy { (0.7...1.5).contains($0) })
            for ch in 0..<4 {
                let range = (ch * patch.count)..<((ch + 1) * patch.count)
                let before = a.input.storage[range].filter { $0 != 0 }, after = g.input.storage[range].filter { $0 != 0 }
                XCTAssertEqual(after.min()!, before.min()!, accuracy: 1e-5)
                XCTAssertEqual(after.max()!, before.max()!, accuracy: 1e-4)
                let order = before.indices.sorted { before[$0] < before[$1] }
                for (i, j) in zip(order, order.dropFirst()) { XCTAssertLessThanOrEqual(after[i], after[j] + 1e-5) }
            }
            // Bias field: a smooth positive factor within exp(±amplitude).
            let f = bias.batch(step: step)
            let amplitudes = try XCTUnwrap(f.augmentation.biasAmplitude)
            for ch in 0..<4 {
                var lo = Double.infinity, hi = -Double.infinity
                for i in (ch * patch.count)..<((ch + 1) * patch.count) where a.input.storage[i] != 0 {
                    let r = log(Double(f.input.storage[i]) / Double(a.input.storage[i]))
                    lo = min(lo, r); hi = max(hi, r)
                }
                XCTAssertLessThanOrEqual(max(abs(lo), abs(hi)), amplitudes[ch] + 1e-5)
                XCTAssertGreaterThan(max(abs(lo), abs(hi)), 0.7 * amplitudes[ch], "the amplitude is reached near a corner")
            }
        }
        // Applied to about `probability` of the samples.
        let third = try sampler(AugmentationOptions(flipProbability: 0, probability: 0.3))
        let n = (0..<300).filter { third.batch(step: $0).augmentation.gamma != nil }.count
        XCTAssertEqual(Double(n) / 300, 0.3, accuracy: 0.1)
    }

    func testBiasProfilesReachTheAmplitude() {
        var rng = SeededRandom(seed: 4)
        for _ in 0..<20 {
            let coefficients = (0..<9).map { _ in rng.normal() }
            let p = Shape3(32, 16, 48)
            let (bx, by, bz) = PatchSampler.biasProfiles(coefficients, amplitude: 0.3, patch: p)
            XCTAssertEqual([bx.count, by.count, bz.count], [32, 16, 48])
            let hi = log(Double(bx.max()!)) + log(Double(by.max()!)) + log(Double(bz.max()!))
            let lo = log(Double(bx.min()!)) + log(Double(by.min()!)) + log(Double(bz.min()!))
            XCTAssertEqual(max(abs(hi), abs(lo)), 0.3, accuracy: 1e-5)
        }
    }

    func testFloat16StorageIsCloseAndHalvesTheImageBytes() throws {
        let dir = try twoCases()
        let patch = Shape3(32, 32, 32)
        let full = try TrainingDataset.load(folder: dir.path, minimumSize: patch)
        let half = try TrainingDataset.load(folder: dir.path, minimumSize: patch, storage: .float16)
        XCTAssertEqual(half.storage, .float16)
        var imageBytes = 0
        for (a, b) in zip(full.cases, half.cases) {
            XCTAssertEqual(a.labels, b.labels)
            XCTAssertEqual(a.foreground, b.foreground)
            guard case .float16(let h) = b.channels else { return XCTFail("float16 storage expected") }
            XCTAssertEqual(b.channels.bytes * 2, a.channels.bytes)
            imageBytes += a.channels.bytes
            for (x, y) in zip(a.channels.floats, h.map(Float.init)) {
                XCTAssertEqual(x == 0, y == 0, "background stays background")
                XCTAssertLessThanOrEqual(abs(x - y), 1e-3 * abs(x) + 1e-7, "1e-7: half precision's subnormal spacing")
            }
        }
        XCTAssertEqual(full.memoryBytes - half.memoryBytes, imageBytes / 2)
        // Patches: the crop within 2⁻¹¹ relative; augmented, within 1e-3 of the values' scale
        // (a shift can bring a value near 0, where a relative bound means nothing). Gamma is
        // left out: t^γ with γ < 1 is steep near the patch minimum and magnifies any rounding.
        for options in [AugmentationOptions.none, AugmentationOptions(gamma: nil, probability: 1)] {
            let s32 = try PatchSampler(dataset: full, patch: patch, seed: 1, augmentation: options)
            let s16 = try PatchSampler(dataset: half, patch: patch, seed: 1, augmentation: options)
            for step in 0..<3 {
                let a = s32.batch(step: step), b = s16.batch(step: step)
                XCTAssertEqual(a.origin, b.origin)
                XCTAssertEqual(a.labels, b.labels)
                // (1e-7: half precision's subnormal spacing, 6e-8, for values near 0.)
                let bad = zip(a.input.storage, b.input.storage).filter { x, y in
                    abs(x - y) > (options == .none ? 1e-3 * abs(x) + 1e-7 : 1e-3 * (1 + abs(x)))
                }
                XCTAssertTrue(bad.isEmpty, "step \(step): \(bad.prefix(3))")
            }
        }
        // Tiny values stay non-zero, huge ones are clamped.
        guard case .float16(let h) = TrainingCase.Channels.halving([1e-9, -1e-9, 0, 1e6, -1e6]) else { return XCTFail() }
        XCTAssertEqual(h, [.leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude])
    }

    func testSamplerRefusesBadArguments() throws {
        let ds = try memoryDataset([memoryCase(Shape3(48, 40, 36), name: "small_one", labelled: nil)])
        assertRefused(try PatchSampler(dataset: ds, patch: Shape3(24, 16, 16), seed: 0), kind: "invalidArgument", mentions: ["multiples of 16"])
        assertRefused(try PatchSampler(dataset: ds, patch: Shape3(48, 48, 16), seed: 0), kind: "invalidArgument", mentions: ["case small_one", "minimumSize"])
        assertRefused(try PatchSampler(dataset: ds, patch: Shape3(16, 16, 16), seed: 0, foregroundFraction: 1.5), kind: "invalidArgument", mentions: ["foreground fraction"])
        assertRefused(try PatchSampler(dataset: ds, patch: Shape3(16, 16, 16), seed: 0, augmentation: AugmentationOptions(gamma: 0...2)),
                      kind: "invalidArgument", mentions: ["gamma"])
        assertRefused(try TrainingDataset(cases: [], modalities: [.t1], classValues: [1, 0], storage: .float32),
                      kind: "invalidArgument", mentions: ["background"])
        assertRefused(try PatchSampler(dataset: try memoryDataset([]), patch: Shape3(16, 16, 16), seed: 0), kind: "invalidArgument", mentions: ["no case"])
    }

    // MARK: Speed

    /// Opt-in: loads the case folders in `$CMFSEG_TRAINING_DATA` (e.g. `cmfseg phantom`
    /// output) both ways and prints crop sizes, bytes per case and load times.
    func testLoadingACohortFolder() throws {
        guard let dir = ProcessInfo.processInfo.environment["CMFSEG_TRAINING_DATA"] else {
            throw XCTSkip("set CMFSEG_TRAINING_DATA to a folder of case folders")
        }
        for storage in TrainingDataset.Storage.allCases {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let ds = try TrainingDataset.load(folder: dir, minimumSize: Shape3(128, 128, 128), storage: storage)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            for c in ds.cases {
                print("\(storage.rawValue) \(c.name): grid \(c.gridShape), box \(c.box.shape), padded \(c.shape), \(c.memoryBytes) bytes (images \(c.channels.bytes), labels \(c.labels.count), foreground \(c.foreground.count * 4))")
            }
            print("\(storage.rawValue): \(ds.cases.count) cases, \(ds.memoryBytes) bytes, loaded in \(String(format: "%.1f", seconds)) s")
        }
    }

    func testDrawTimes() throws {
        // A case of a BraTS brain box's size (about 140 × 172 × 140 after cropping).
        let big = memoryCase(Shape3(140, 172, 140), labelled: Box3(lower: SIMD3(50, 60, 50), upper: SIMD3(80, 90, 80)))
        for storage in TrainingDataset.Storage.allCases {
            var c = big
            if storage == .float16 { c.channels = .halving(big.channels.floats) }
            let ds = try memoryDataset([c], storage: storage)
            for side in [128, 64] {
                for (name, options) in [("none", AugmentationOptions.none), ("default", AugmentationOptions()),
                                        ("all", AugmentationOptions(flipProbability: 1, probability: 1))] {
                    let s = try PatchSampler(dataset: ds, patch: Shape3(side, side, side), seed: 1, augmentation: options)
                    var times: [Double] = []
                    for step in 0..<6 {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        _ = s.batch(step: step)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                    }
                    times.sort()
                    func ms(_ t: Double) -> String { String(format: "%.1f ms", t) }
                    print("draw \(storage.rawValue) \(side)³, augmentation \(name): median \(ms(times[3])), best \(ms(times[0]))")
                    XCTAssertLessThan(times[3], side == 128 ? 1500 : 400, "a draw must stay well under a training step")
                }
            }
        }
    }
}

/// A list appended to from several threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}

/// One value handed from a thread to the test.
final class LockedBox<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?
    func set(_ v: T) { condition.lock(); value = v; condition.broadcast(); condition.unlock() }
    func wait() -> T {
        condition.lock(); defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
