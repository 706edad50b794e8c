@testable import CMFSeg
import XCTest

final class SlidingWindowTests: XCTestCase {
    func testStartsFollowNNUNet() {
        // nnU-Net compute_steps_for_sliding_window, values worked by hand.
        XCTAssertEqual(SlidingWindow.starts(size: 128, patch: 128, overlap: 0.5), [0])
        XCTAssertEqual(SlidingWindow.starts(size: 140, patch: 128, overlap: 0.5), [0, 12])
        XCTAssertEqual(SlidingWindow.starts(size: 175, patch: 128, overlap: 0.5), [0, 47])
        XCTAssertEqual(SlidingWindow.starts(size: 200, patch: 128, overlap: 0.5), [0, 36, 72])
        XCTAssertEqual(SlidingWindow.starts(size: 100, patch: 32, overlap: 0.5), [0, 14, 27, 41, 54, 68])
        XCTAssertEqual(SlidingWindow.starts(size: 100, patch: 32, overlap: 0), [0, 23, 45, 68])
        XCTAssertEqual(SlidingWindow.starts(size: 33, patch: 32, overlap: 0.99), [0, 1])
    }

    func testFittedWindowsAreTheFewestPerAxisShrunkToMultiplesOf16() {
        var options = SlidingWindowOptions()
        // The held-out phantoms' largest brain box: two windows per axis, each just covering half.
        XCTAssertEqual(options.fittedPatch(crop: Shape3(141, 178, 147), sizeMultiple: 16), Shape3(80, 96, 80))
        // One window where the box fits (rounded up, the padding covers the rest), two beyond.
        XCTAssertEqual(options.fittedPatch(crop: Shape3(100, 128, 129), sizeMultiple: 16), Shape3(112, 128, 80))
        XCTAssertEqual(options.fittedPatch(crop: Shape3(1, 16, 17), sizeMultiple: 16), Shape3(16, 16, 32))
        options.patch = Shape3(96, 64, 160)
        XCTAssertEqual(options.fittedPatch(crop: Shape3(193, 65, 160), sizeMultiple: 16), Shape3(80, 48, 160))
        // Every window fits the patch, and the overlap-free grid of that size covers the box
        // with the fewest windows ⌈n / p⌉.
        for n in 1...300 {
            for p in [16, 64, 96, 128] {
                options.patch = Shape3(p, p, p)
                let side = options.fittedPatch(crop: Shape3(n, n, n), sizeMultiple: 16).nx
                XCTAssertLessThanOrEqual(side, p)
                XCTAssertEqual(side % 16, 0)
                let starts = SlidingWindow.starts(size: max(n, side), patch: side, overlap: 0)
                XCTAssertEqual(starts.count, (n + p - 1) / p, "n \(n) p \(p)")
                XCTAssertEqual(starts.last! + side, max(n, side))
            }
        }
    }

    func testImportanceMapIsNormalisedSymmetricAndPositive() {
        let p = Shape3(16, 12, 8)
        let map = SlidingWindow.importanceMap(patch: p, sigmaScale: 1.0 / 8)
        XCTAssertEqual(map.count, p.count)
        XCTAssertEqual(map.max()!, 1, accuracy: 1e-6)
        XCTAssertGreaterThan(map.min()!, 0)
        for z in 0..<p.nz { for y in 0..<p.ny { for x in 0..<p.nx {
            let v = map[p.index(x, y, z)]
            XCTAssertEqual(v, map[p.index(p.nx - 1 - x, p.ny - 1 - y, p.nz - 1 - z)], accuracy: 1e-7)
        } } }
        // 1-D profile: exp(-(i - c)^2 / (2 sigma^2)), sigma = 2 for 16, relative to the peak.
        let c = 7.5, s = 2.0
        let peak = exp(-0.25 / (2 * s * s))
        XCTAssertEqual(Double(map[p.index(0, 5, 3)] / map[p.index(7, 5, 3)]), exp(-(c * c) / (2 * s * s)) / peak, accuracy: 1e-6)
    }

    func testStitchingIsExactForAPositionIndependentModel() throws {
        let model = LinearSoftmaxPredictor()
        for (shape, patch, overlap) in [(Shape3(40, 37, 29), Shape3(16, 16, 16), 0.5),
                                        (Shape3(24, 24, 24), Shape3(24, 24, 24), 0.5),
                                        (Shape3(50, 20, 17), Shape3(16, 8, 16), 0.25),
                                        (Shape3(33, 17, 16), Shape3(16, 16, 16), 0.0)] {
            let input = randomTensor([1, 4, shape.nz, shape.ny, shape.nx], seed: UInt64(shape.count))
            var options = SlidingWindowOptions()
            options.patch = patch
            options.overlap = overlap
            let stitched = try SlidingWindow.predict(model, input: input, options: options).probabilities
            let whole = try model.whole(input)
            XCTAssertEqual(stitched.shape, whole.shape)
            let worst = zip(stitched.storage, whole.storage).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-6, "\(shape) patch \(patch) overlap \(overlap)")
        }
    }

    func testMirroringEqualsPlainForAFlipEquivariantModel() throws {
        let model = BlurPredictor()
        let input = randomTensor([1, 1, 20, 23, 26], seed: 3)
        var options = SlidingWindowOptions()
        options.patch = Shape3(12, 12, 12)
        let plain = try SlidingWindow.predict(model, input: input, options: options).probabilities
        options.mirroring = true
        let mirrored = try SlidingWindow.predict(model, input: input, options: options).probabilities
        let worst = zip(plain.storage, mirrored.storage).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-6)
    }

    func testMirroringFlipsAndFlipsBack() throws {
        let model = RampPredictor()
        let input = randomTensor([1, 1, 8, 8, 16], seed: 4)
        var options = SlidingWindowOptions()
        options.patch = Shape3(8, 8, 8)
        options.mirroring = true
        let out = try SlidingWindow.predict(model, input: input, options: options).probabilities
        XCTAssertEqual(model.calls, 3 * 8)  // 3 windows along x, 8 flips each
        let n = 8 * 8 * 16
        for i in 0..<n { XCTAssertEqual(out.storage[n + i], 0.5, accuracy: 1e-6) }
        // Without mirroring the ramp survives (weighted mean of ramps, not constant).
        options.mirroring = false
        let plain = try SlidingWindow.predict(model, input: input, options: options).probabilities
        XCTAssertEqual(plain.storage[n + 0], 0, accuracy: 1e-6)
        XCTAssertEqual(plain.storage[n + 15], 1, accuracy: 1e-6)
    }

    func testCancelStopsBetweenWindows() throws {
        let model = RampPredictor()
        let input = randomTensor([1, 1, 8, 8, 32], seed: 5)
        var options = SlidingWindowOptions()
        options.patch = Shape3(8, 8, 8)
        let polls = Counter()
        let control = InferenceControl(isCancelled: { polls.increment() > 2 })
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options, control: control)) { error in
            guard case CMFError.aborted(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("cancelled"), m)
        }
        XCTAssertEqual(model.calls, 1)  // polled at start, before window 1, stopped before window 2
    }

    func testProgressIsMonotoneAndCanAbort() throws {
        let model = RampPredictor()
        let input = randomTensor([1, 1, 8, 8, 32], seed: 6)
        var options = SlidingWindowOptions()
        options.patch = Shape3(8, 8, 8)
        var seen: [Double] = []
        _ = try SlidingWindow.predict(model, input: input, options: options,
                                      control: InferenceControl(progress: { seen.append($0); return true }))
        XCTAssertEqual(seen.first, 0)
        XCTAssertEqual(seen.last, 1)
        XCTAssertEqual(seen, seen.sorted())
        XCTAssertEqual(seen.count, model.calls + 1)
        let before = model.calls
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options,
                                                       control: InferenceControl(progress: { $0 < 0.3 }))) { error in
            guard case CMFError.aborted = error else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(model.calls - before, 7)
    }

    func testBadOptionsAndShapesAreErrors() {
        let model = LinearSoftmaxPredictor()
        let input = randomTensor([1, 4, 16, 16, 16], seed: 7)
        var options = SlidingWindowOptions()
        options.patch = Shape3(12, 16, 16)  // not a multiple of 8
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options))
        options.patch = Shape3(256, 256, 256)  // beyond the memory cap
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options)) { error in
            XCTAssertTrue("\(error)".contains("at most"), "\(error)")
        }
        options.patch = Shape3(16, 16, 16)
        options.overlap = 1
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options))
        options.overlap = 0.5
        options.patch = Shape3(32, 16, 16)  // larger than the input
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: input, options: options))
        options.patch = Shape3(16, 16, 16)
        XCTAssertThrowsError(try SlidingWindow.predict(model, input: randomTensor([1, 3, 16, 16, 16], seed: 1), options: options))
    }
}
