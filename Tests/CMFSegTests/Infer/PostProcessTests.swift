@testable import CMFSeg
import TestSupport
import XCTest

/// Oracle: scipy following the authors' seg_post.py (Tests/Scripts/make_preprocess_fixtures.py),
/// plus small hand-built maps.
final class PostProcessTests: XCTestCase {
    /// BraTS values (0, 1 NCR, 2 ED, 4 ET) <-> network classes (0, 2, 1, 3).
    static func toClasses(_ v: [UInt8]) -> [UInt8] { v.map { [0: 0, 1: 2, 2: 1, 4: 3][$0] ?? 255 } }
    static func toValues(_ c: [UInt8]) -> [UInt8] { c.map { [0, 2, 1, 4][Int($0)] } }

    func testMatchesTheAuthorsRulesComputedWithScipy() throws {
        let meta = try RawFixtures.json("postprocess/cases.json")
        let dims = try XCTUnwrap(meta["shape_xyz"] as? [Int])
        let grid = Shape3(dims[0], dims[1], dims[2])
        let brain = try RawFixtures.bytes("postprocess/brain.u8")
        let cases = try XCTUnwrap(meta["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            var options = PostProcessOptions()
            options.minEnhancingVoxels = try XCTUnwrap(c["min_et_voxels"] as? Int)
            options.smallEnhancingBecomes = (c["et_becomes"] as? Int) == 1 ? .necrosis : .edema
            var classes = Self.toClasses(try RawFixtures.bytes("postprocess/\(name)_in.u8"))
            let expected = try RawFixtures.bytes("postprocess/\(name)_out.u8")
            for threads in [1, 2] {
                var work = classes
                try PostProcessor.apply(&work, grid: grid, brainMask: brain, options: options, threads: threads)
                let got = Self.toValues(work)
                XCTAssertEqual(got.count, expected.count)
                let diff = zip(got, expected).filter { $0 != $1 }.count
                XCTAssertEqual(diff, 0, "\(name), \(threads) threads: \(diff) voxels differ")
            }
            classes.removeAll()
        }
    }

    func testComponentsCloserThanTheDilationAreGrouped() throws {
        // Two edema bars on one line with a gap of g voxels, sizes 30 and 6: grouped (kept)
        // when 2 dilations bridge the gap (g <= 4), separated (small one dropped) otherwise.
        for (gap, keptSmall) in [(4, true), (5, false)] {
            let grid = Shape3(30 + gap + 6 + 4, 3, 3)
            var c = [UInt8](repeating: 0, count: grid.count)
            for x in 2..<32 { c[grid.index(x, 1, 1)] = 1 }
            for x in (32 + gap)..<(38 + gap) { c[grid.index(x, 1, 1)] = 1 }
            var options = PostProcessOptions()
            options.applyBrainMask = false
            options.minCoreVoxels = 0
            try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: options)
            XCTAssertEqual(c.filter { $0 == 1 }.count, keptSmall ? 36 : 30, "gap \(gap)")
        }
    }

    func testThresholdsAreParametersAndZeroDisables() throws {
        let grid = Shape3(10, 10, 10)
        var base = [UInt8](repeating: 0, count: grid.count)
        for z in 2..<5 { for y in 2..<5 { for x in 2..<5 { base[grid.index(x, y, z)] = 1 } } }  // 27 ED
        base[grid.index(3, 3, 3)] = 3                                                          // 1 ET
        base[grid.index(8, 8, 8)] = 2                                                          // far NCR speck
        var off = PostProcessOptions()
        off.applyBrainMask = false
        off.componentFraction = 0
        off.minCoreVoxels = 0
        off.minEnhancingVoxels = 0
        var c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: off)
        XCTAssertEqual(c, base)

        var small = off
        small.componentFraction = 1.0 / 3
        c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: small)
        XCTAssertEqual(c[grid.index(8, 8, 8)], 0)
        XCTAssertEqual(c.filter { $0 != 0 }.count, 27)

        var core = off
        core.minCoreVoxels = 3   // NCR + ET = 2 < 3: ED -> NCR
        c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: core)
        XCTAssertEqual(c.filter { $0 == 1 }.count, 0)
        XCTAssertEqual(c.filter { $0 == 2 }.count, 27)

        var et = off
        et.minEnhancingVoxels = 2
        et.smallEnhancingBecomes = .necrosis
        c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: et)
        XCTAssertEqual(c[grid.index(3, 3, 3)], 2)
        et.minEnhancingVoxels = 1   // 1 ET voxel is not < 1: kept
        c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: et)
        XCTAssertEqual(c[grid.index(3, 3, 3)], 3)

        var bad = off
        bad.connectivity = 7
        XCTAssertThrowsError(try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: bad))
        bad = off
        bad.applyBrainMask = true
        XCTAssertThrowsError(try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: bad))
    }

    func testConnectivityDecidesWhichSpecksAreGrouped() throws {
        // A 27-voxel ED cube at 2...4, an NCR speck sharing an edge with it at (5, 5, 3) and one
        // sharing only a corner at (5, 5, 5); no dilation: 6 drops both, 18 keeps the edge
        // speck, 26 keeps both.
        let grid = Shape3(10, 10, 10)
        var base = [UInt8](repeating: 0, count: grid.count)
        for z in 2..<5 { for y in 2..<5 { for x in 2..<5 { base[grid.index(x, y, z)] = 1 } } }
        base[grid.index(5, 5, 3)] = 2
        base[grid.index(5, 5, 5)] = 2
        for (conn, edge, corner) in [(6, false, false), (18, true, false), (26, true, true)] {
            var options = PostProcessOptions()
            options.applyBrainMask = false
            options.groupingDilation = 0
            options.connectivity = conn
            options.minCoreVoxels = 0
            options.minEnhancingVoxels = 0
            for threads in [1, 2] {
                var c = base
                try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: options, threads: threads)
                XCTAssertEqual(c[grid.index(5, 5, 3)], edge ? 2 : 0, "connectivity \(conn)")
                XCTAssertEqual(c[grid.index(5, 5, 5)], corner ? 2 : 0, "connectivity \(conn)")
                XCTAssertEqual(c.filter { $0 == 1 }.count, 27, "connectivity \(conn)")
            }
        }
    }

    /// The default cut is the authors' `max / 3.0` itself, not a float near 1/3: a component
    /// of exactly a third of the largest survives it, and falls to the C API's float 1/3
    /// (0.33333334) taken as a plain fraction.
    func testAuthorsThirdKeepsAComponentOfExactlyAThird() throws {
        let grid = Shape3(20, 6, 6)
        var base = [UInt8](repeating: 0, count: grid.count)
        for z in 1...3 { for y in 1...3 { for x in 1...3 { base[grid.index(x, y, z)] = 1 } } }  // 27
        for y in 1...3 { for x in 12...14 { base[grid.index(x, y, 1)] = 1 } }                  // 9, far
        var options = PostProcessOptions()
        options.applyBrainMask = false
        options.minCoreVoxels = 0
        options.minEnhancingVoxels = 0
        XCTAssertEqual(options.componentCut, .authorsThird)
        var c = base
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: options)
        XCTAssertEqual(c, base)
        options.componentCut = .fraction(Double(Float(1.0 / 3)))
        try PostProcessor.apply(&c, grid: grid, brainMask: nil, options: options)
        XCTAssertEqual(c.filter { $0 != 0 }.count, 27)
    }
}
