@testable import CMFSeg
import XCTest

/// The evaluator against a direct, unoptimised reading of the definitions (no crops, no
/// kernels): random small label maps whose tumours touch the image edges, anisotropic
/// spacing. Guards the composition (crops at image edges, directions, conventions).
final class EvaluateBruteForceTests: XCTestCase {
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static func randomLabels(_ s: Shape3, rng: inout RNG) -> [UInt8] {
        var v = [UInt8](repeating: 0, count: s.count)
        let values: [UInt8] = [1, 2, 4]
        for _ in 0..<(1 + rng.below(5)) {
            let label = values[rng.below(3)]
            let x0 = rng.below(s.nx), y0 = rng.below(s.ny), z0 = rng.below(s.nz)
            let w = 1 + rng.below(max(1, s.nx / 2)), h = 1 + rng.below(max(1, s.ny / 2)), d = 1 + rng.below(max(1, s.nz / 2))
            for z in z0..<min(s.nz, z0 + d) { for y in y0..<min(s.ny, y0 + h) { for x in x0..<min(s.nx, x0 + w) {
                v[s.index(x, y, z)] = label
            } } }
        }
        for _ in 0..<rng.below(6) { v[rng.below(s.count)] = values[rng.below(3)] }
        return v
    }

    struct Point { var x: Int, y: Int, z: Int }

    static func border(_ m: [Bool], _ s: Shape3) -> [Point] {
        var out: [Point] = []
        for z in 0..<s.nz { for y in 0..<s.ny { for x in 0..<s.nx where m[s.index(x, y, z)] {
            var interior = true
            for (dx, dy, dz) in [(-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)] {
                let a = x + dx, b = y + dy, c = z + dz
                if a < 0 || b < 0 || c < 0 || a >= s.nx || b >= s.ny || c >= s.nz || !m[s.index(a, b, c)] { interior = false }
            }
            if !interior { out.append(Point(x: x, y: y, z: z)) }
        } } }
        return out
    }

    static func directed(_ from: [Point], _ to: [Point], _ sp: SIMD3<Double>) -> [Double] {
        from.map { p in
            var best = Double.infinity
            for q in to {
                let a = Double(p.x - q.x) * sp.x, b = Double(p.y - q.y) * sp.y, c = Double(p.z - q.z) * sp.z
                best = min(best, a * a + b * b + c * c)
            }
            return best.squareRoot()
        }
    }

    static func percentile95(_ v: [Double]) -> Double {
        let s = v.sorted()
        let h = Double(s.count - 1) * 0.95
        let lo = Int(h), hi = min(lo + 1, s.count - 1)
        return Percentile.lerp(s[lo], s[hi], h - Double(lo))
    }

    static func components(_ m: [Bool], _ s: Shape3) -> [[Int]] {
        var seen = [Bool](repeating: false, count: m.count)
        var comps: [[Int]] = []
        for start in m.indices where m[start] && !seen[start] {
            var stack = [start], comp: [Int] = []
            seen[start] = true
            while let i = stack.popLast() {
                comp.append(i)
                let x = i % s.nx, y = (i / s.nx) % s.ny, z = i / (s.nx * s.ny)
                for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
                    let a = x + dx, b = y + dy, c = z + dz
                    guard a >= 0, b >= 0, c >= 0, a < s.nx, b < s.ny, c < s.nz else { continue }
                    let j = s.index(a, b, c)
                    if m[j] && !seen[j] { seen[j] = true; stack.append(j) }
                } } }
            }
            comps.append(comp)
        }
        return comps
    }

    /// Best matching by exhaustive search: maximises sum(dice + 1e-6) over candidate pairs.
    static func bestMatching(_ w: [[Double?]], row: Int = 0, used: Set<Int> = []) -> (Double, [(Int, Int)]) {
        guard row < w.count else { return (0, []) }
        var best = bestMatching(w, row: row + 1, used: used)
        for (j, d) in w[row].enumerated() where d != nil && !used.contains(j) {
            let rest = bestMatching(w, row: row + 1, used: used.union([j]))
            if rest.0 + d! + 1e-6 > best.0 + 1e-12 { best = (rest.0 + d! + 1e-6, [(row, j)] + rest.1) }
        }
        return best
    }

    func testRandomMapsMatchTheDefinitions() throws {
        var rng = RNG(state: 42)
        let spacings: [SIMD3<Double>] = [SIMD3(1, 1, 1), SIMD3(1.2, 0.9, 2.5), SIMD3(0.5, 2, 1)]
        for trial in 0..<60 {
            let s = Shape3(2 + rng.below(11), 2 + rng.below(10), 1 + rng.below(9))
            let sp = spacings[trial % 3]
            let ref = Self.randomLabels(s, rng: &rng), pred = Self.randomLabels(s, rng: &rng)
            let g = Geometry(spacing: sp)
            let r = try BraTSEvaluator(options: EvaluationOptions(threads: 1 + trial % 2))
                .evaluate(reference: LabelMap(shape: s, geometry: g, voxels: ref),
                          prediction: LabelMap(shape: s, geometry: g, voxels: pred))
            let diag = ((Double(s.nx) * sp.x) * (Double(s.nx) * sp.x) + (Double(s.ny) * sp.y) * (Double(s.ny) * sp.y)
                        + (Double(s.nz) * sp.z) * (Double(s.nz) * sp.z)).squareRoot()
            for region in TumorRegion.allCases {
                let labels = LabelConvention.brats2018.labels(of: region)
                let a = ref.map { labels.contains($0) }, b = pred.map { labels.contains($0) }
                let na = a.filter { $0 }.count, nb = b.filter { $0 }.count
                let inter = zip(a, b).filter { $0 && $1 }.count
                let m = r[region], what = "trial \(trial) \(s) \(region)"
                XCTAssertEqual(m.dice, na + nb == 0 ? 1 : 2 * Double(inter) / Double(na + nb), accuracy: 1e-12, what)
                if na > 0 && nb > 0 {
                    let ab = Self.directed(Self.border(a, s), Self.border(b, s), sp)
                    let ba = Self.directed(Self.border(b, s), Self.border(a, s), sp)
                    XCTAssertEqual(m.hd95, Self.percentile95(ab + ba), accuracy: 1e-9, what)
                    XCTAssertEqual(m.hd, (ab + ba).max()!, accuracy: 1e-9, what)
                    XCTAssertEqual(m.assd, (ab + ba).reduce(0, +) / Double(ab.count + ba.count), accuracy: 1e-9, what)
                    let tol = sp.min()
                    let fa = Double(ab.filter { $0 <= tol }.count) / Double(ab.count)
                    let fb = Double(ba.filter { $0 <= tol }.count) / Double(ba.count)
                    XCTAssertEqual(m.nsd, (fa + fb) / 2, accuracy: 1e-12, what)
                } else if na + nb > 0 {
                    XCTAssertEqual(m.hd95, diag, accuracy: 1e-9, what)
                    XCTAssertEqual(m.nsd, 0, what)
                } else {
                    XCTAssertEqual(m.hd95, 0, what)
                }
                // lesions
                let ca = Self.components(a, s), cb = Self.components(b, s)
                var w = [[Double?]](repeating: [Double?](repeating: nil, count: cb.count), count: ca.count)
                for (i, x) in ca.enumerated() {
                    let set = Set(x)
                    for (j, y) in cb.enumerated() {
                        let o = y.filter { set.contains($0) }.count
                        let d = 2.0 * Double(o) / Double(x.count + y.count)
                        if o > 0 && d >= 1e-6 { w[i][j] = d }
                    }
                }
                let matching = ca.count <= 7 && cb.count <= 7 ? Self.bestMatching(w).1 : nil
                XCTAssertEqual(m.lesion.fp + m.lesion.tp, cb.count, what)
                XCTAssertEqual(m.lesion.fn + m.lesion.tp, ca.count, what)
                if let matching {
                    XCTAssertEqual(m.lesion.tp, matching.count, what)
                    if !matching.isEmpty {
                        let dices = matching.map { w[$0.0][$0.1]! }
                        XCTAssertEqual(m.lesion.sqDice, dices.reduce(0, +) / Double(dices.count), accuracy: 1e-12, what)
                        let hds = matching.map { (i, j) -> Double in
                            var ma = [Bool](repeating: false, count: s.count), mb = ma
                            for v in ca[i] { ma[v] = true }
                            for v in cb[j] { mb[v] = true }
                            let ab = Self.directed(Self.border(ma, s), Self.border(mb, s), sp)
                            let ba = Self.directed(Self.border(mb, s), Self.border(ma, s), sp)
                            return Self.percentile95(ab + ba)
                        }
                        XCTAssertEqual(m.lesion.sqHD95, hds.reduce(0, +) / Double(hds.count), accuracy: 1e-9, what)
                    }
                }
            }
        }
    }
}
