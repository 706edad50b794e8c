@testable import CMFSeg
import XCTest

/// Label maps built to break the evaluator: many tiny lesions, one lesion woven through the
/// whole grid, groups of overlapping lesions too large to match exactly. Each must give
/// the exact answer or a clear error, never a crash or an unbounded run.
final class AdversarialLabelTests: XCTestCase {
    /// Label 4 (ET, inside TC and WT) on every voxel with even x, y and z: (n/2)³ lesions
    /// that no 26-neighbourhood joins.
    static func isolatedVoxels(_ n: Int, shiftX: Int = 0) -> [UInt8] {
        let s = Shape3(n, n, n)
        var v = [UInt8](repeating: 0, count: s.count)
        for z in stride(from: 0, to: n, by: 2) { for y in stride(from: 0, to: n, by: 2) {
            for x in stride(from: shiftX, to: n, by: 2) { v[s.index(x, y, z)] = 4 }
        } }
        return v
    }

    static func evaluate(_ ref: [UInt8], _ pred: [UInt8], _ shape: Shape3) throws -> EvaluationResult {
        try ref.withUnsafeBufferPointer { a in
            try pred.withUnsafeBufferPointer { b in
                try BraTSEvaluator().evaluate(reference: a, prediction: b, shape: shape, spacing: SIMD3(1, 1, 1))
            }
        }
    }

    func testManyOneVoxelLesionsMatchOneToOne() throws {
        let n = 48, lesions = (n / 2) * (n / 2) * (n / 2)   // 13 824 per region
        let labels = Self.isolatedVoxels(n)
        let r = try Self.evaluate(labels, labels, Shape3(n, n, n))
        for region in r.regions {
            XCTAssertEqual(region.lesion.tp, lesions)
            XCTAssertEqual(region.lesion.fp, 0)
            XCTAssertEqual(region.lesion.fn, 0)
            XCTAssertEqual(region.lesion.sqDice, 1)
            XCTAssertEqual(region.dice, 1)
        }
        // shifted by one voxel: no lesion overlaps any other
        let shifted = Self.isolatedVoxels(n, shiftX: 1)
        let s = try Self.evaluate(labels, shifted, Shape3(n, n, n))
        XCTAssertEqual(s.regions[0].lesion.tp, 0)
        XCTAssertEqual(s.regions[0].lesion.fn, lesions)
        XCTAssertEqual(s.regions[0].lesion.fp, lesions)
    }

    func testCheckerboardIsOneLesion() throws {
        // The parity checkerboard is 26-connected: one lesion per map, half the grid each.
        let n = 40, s = Shape3(n, n, n)
        var ref = [UInt8](repeating: 0, count: s.count), pred = ref
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            ref[s.index(x, y, z)] = (x + y + z) % 2 == 0 ? 2 : 0
            pred[s.index(x, y, z)] = (x + y + z) % 2 == 0 ? 2 : (x < n / 2 ? 2 : 0)
        } } }
        let r = try Self.evaluate(ref, pred, s)
        let wt = r.regions[0]
        XCTAssertEqual(wt.lesion.tp, 1)
        XCTAssertEqual(wt.lesion.fp, 0)
        XCTAssertEqual(wt.lesion.fn, 0)
        // |ref| = n³/2, |pred| = n³/2 + n³/4, all of ref inside pred
        XCTAssertEqual(wt.dice, 2.0 * 0.5 / (0.5 + 0.75), accuracy: 1e-12)
    }

    func testMatchingPerGroupEqualsTheWholeAssignment() {
        // Random sparse candidate graphs: the per-group matching must reach the same total
        // cost as one dense assignment over all lesions (ties may pick other pairs).
        var rng = SeededRandom(seed: 7)
        for trial in 0..<200 {
            let nRef = 1 + Int(rng.next() % 9), nPred = 1 + Int(rng.next() % 9)
            var seen = Set<[Int]>()
            var candidates: [(r: Int, p: Int, inter: Int, dice: Double)] = []
            for _ in 0..<(1 + Int(rng.next() % 14)) {
                let r = Int(rng.next() % UInt64(nRef)), p = Int(rng.next() % UInt64(nPred))
                guard seen.insert([r, p]).inserted else { continue }
                let dice = [0.25, 0.5, 0.75, 1.0][Int(rng.next() % 4)] * Double(1 + rng.next() % 1000) / 1000
                candidates.append((r, p, 1, dice))
            }
            var grouped: [(Int, Int, Int)] = []
            for g in LesionMatcher.connectedGroups(candidates.map { ($0.r, $0.p) }, refCount: nRef) {
                grouped += try! LesionMatcher.assign(g.map { candidates[$0] })
            }
            var cost = [Double](repeating: 1 + 1e-6, count: nRef * nPred)
            for c in candidates { cost[c.r * nPred + c.p] = 1 - c.dice }
            let whole = BipartiteMatching.minimumCostAssignment(cost: cost, rows: nRef, cols: nPred)
                .filter { cost[$0.0 * nPred + $0.1] < 1 }
            func total(_ pairs: [(Int, Int)]) -> Double { pairs.reduce(0) { $0 + 1 + 1e-6 - cost[$1.0 * nPred + $1.1] } }
            XCTAssertEqual(total(grouped.map { ($0.0, $0.1) }), total(whole), accuracy: 1e-9, "trial \(trial)")
            XCTAssertEqual(Set(grouped.map(\.0)).count, grouped.count, "a reference lesion matched twice")
            XCTAssertEqual(Set(grouped.map(\.1)).count, grouped.count, "a predicted lesion matched twice")
        }
    }

    func testAGroupTooLargeToMatchIsAClearError() {
        // 2100 × 2100 lesions all overlapping each other: refused before any allocation.
        let side = 2100
        var candidates: [(r: Int, p: Int, inter: Int, dice: Double)] = []
        candidates.reserveCapacity(side)
        for i in 0..<side { candidates.append((i, i, 1, 0.5)); candidates.append((i, (i + 1) % side, 1, 0.5)) }
        XCTAssertThrowsError(try LesionMatcher.assign(candidates)) { error in
            guard case CMFError.outOfMemory(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("2100 reference and 2100 predicted lesions"), m)
        }
    }
}
