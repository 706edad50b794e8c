import CCMFKernels

/// Lesion-wise metrics of one region as panoptica computes them for `brats-evaluation`
/// (`config_gli`): instances are 26-connected components; candidate pairs are overlapping
/// components with Dice >= 1e-6 (Dice = 2.0 * overlap / (|a| + |b|)); the pairing is
/// `MaxBipartiteMatching`'s: a minimum-cost assignment on the cost matrix
/// 1 - Dice (candidates) / 1 + 1e-6 (others), keeping assigned pairs of cost < 1. Rows and
/// columns without candidates are left out before solving, which does not change the set of
/// optimal matchings. Each matched pair is then scored with Dice and HD95 on the two
/// instance masks (cropped to their joint box plus one voxel).
struct LesionMatcher {
    /// The crop both masks live on.
    let shape: Shape3
    let spacing: SIMD3<Double>
    let threads: Int32

    static let matchingThreshold = 1e-6
    /// Instances are connected components with this connectivity (cc3d's default, panoptica's).
    static let connectivity: Int32 = 26

    struct Components {
        var labels: [Int32]
        /// Per component (0-based): voxel count and box in crop coordinates.
        var sizes: [Int]
        var boxes: [Box]
        var count: Int { sizes.count }
    }

    func components(of mask: [UInt8], voxels: Int) throws -> Components {
        let n = shape.count
        var labels = [Int32](unsafeUninitializedCapacity: n) { _, c in c = n }
        // At most one component per voxel, and with 26-connectivity at most one per 2×2×2 cell.
        let cells = ((shape.nx + 1) / 2) * ((shape.ny + 1) / 2) * ((shape.nz + 1) / 2)
        let capacity = max(min(voxels, cells), 1)
        var stats = [Int64](unsafeUninitializedCapacity: 7 * capacity) { _, c in c = 7 * capacity }
        // Serial (threads 1), as before the labellers were merged: crops are small and batch
        // evaluation already runs one case per worker; threads here measured no gain
        // (Tests/Scripts/bench_evaluate.py).
        let found = cmfk_components_u8(mask, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz),
                                       Self.connectivity, &labels, &stats, Int64(capacity), 1)
        guard found >= 0 else {
            if found == -1 {
                throw CMFError.outOfMemory("connected components of a \(shape) crop: out of memory")
            }
            throw CMFError.internal("connected components of a \(shape) crop: kernel rejected its arguments (\(found))")
        }
        var sizes: [Int] = [], boxes: [Box] = []
        sizes.reserveCapacity(Int(found))
        for c in 0..<Int(found) {
            sizes.append(Int(stats[7 * c]))
            boxes.append(Box(stats[(7 * c + 1)..<(7 * c + 7)].map(Int.init)))
        }
        return Components(labels: labels, sizes: sizes, boxes: boxes)
    }

    func evaluate(reference: [UInt8], refCount: Int, prediction: [UInt8], predCount: Int,
                  overlap: Int) throws -> LesionMetrics {
        let ref = refCount > 0 ? try components(of: reference, voxels: refCount) : nil
        let pred = predCount > 0 ? try components(of: prediction, voxels: predCount) : nil
        let nRef = ref?.count ?? 0, nPred = pred?.count ?? 0
        var dices: [Double] = [], hd95s: [Double] = []
        if let ref, let pred, overlap > 0 {
            for (r, p, inter) in try matchedPairs(ref, pred, overlap: overlap) {
                dices.append(2.0 * Double(inter) / Double(ref.sizes[r] + pred.sizes[p]))
                hd95s.append(try instanceHD95(ref, r, pred, p))
            }
        }
        let tp = dices.count, fp = nPred - tp, fn = nRef - tp
        if tp == 0 {
            let none = nRef + nPred == 0
            return LesionMetrics(tp: 0, fp: fp, fn: fn, rq: none ? .nan : 0, sqDice: none ? .nan : 0,
                                 sqHD95: none ? .nan : .infinity, pq: none ? .nan : 0)
        }
        let rq = Double(tp) / (Double(tp) + 0.5 * Double(fp) + 0.5 * Double(fn))
        let sqDice = dices.reduce(0, +) / Double(tp)
        let sqHD95 = hd95s.reduce(0, +) / Double(tp)
        return LesionMetrics(tp: tp, fp: fp, fn: fn, rq: rq, sqDice: sqDice, sqHD95: sqHD95,
                             pq: sqDice * rq)
    }

    /// Matched (reference component, prediction component, overlap voxels), 0-based.
    func matchedPairs(_ ref: Components, _ pred: Components, overlap: Int) throws -> [(Int, Int, Int)] {
        let capacity = min(overlap, ref.count * pred.count)
        var table = [Int64](repeating: 0, count: 3 * max(capacity, 1))
        let found = cmfk_overlap_pairs_i32(ref.labels, pred.labels, Int64(shape.count), &table,
                                           Int64(capacity))
        guard found >= 0 else {
            throw CMFError.outOfMemory("lesion overlap table: out of memory")
        }
        // Candidates: Dice >= threshold, as panoptica's score_beats_threshold (not strict).
        var candidates: [(r: Int, p: Int, inter: Int, dice: Double)] = []
        for j in 0..<Int(found) {
            let r = Int(table[3 * j]) - 1, p = Int(table[3 * j + 1]) - 1, inter = Int(table[3 * j + 2])
            let dice = 2.0 * Double(inter) / (Double(ref.sizes[r]) + Double(pred.sizes[p]))
            if dice >= Self.matchingThreshold { candidates.append((r, p, inter, dice)) }
        }
        var result: [(Int, Int, Int)] = []
        for group in Self.connectedGroups(candidates.map { ($0.r, $0.p) }, refCount: ref.count) {
            try result += Self.assign(group.map { candidates[$0] })
        }
        return result.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// The largest group of overlapping lesions matched exactly: its dense cost matrix
    /// (rows × columns) and the Hungarian algorithm's rows² · columns steps stay within
    /// about a second and 64 MiB.
    static let maxGroupEntries = 1 << 22
    static let maxGroupWork = 2_000_000_000.0

    /// Candidate indices split into the connected groups of the bipartite candidate graph
    /// (reference lesion r — predicted lesion p). A minimum-cost assignment over the whole
    /// matrix is one per group: every non-candidate entry costs the same 1 + 1e-6, more than
    /// any candidate, so the assignment maximises the candidates' summed 1 + 1e-6 − cost,
    /// a matching problem that separates over groups. Solving per group keeps a million
    /// one-voxel lesions a million 1 × 1 problems instead of one 10¹²-entry matrix.
    static func connectedGroups(_ edges: [(Int, Int)], refCount: Int) -> [[Int]] {
        var parent = [Int](0..<(refCount + (edges.map(\.1).max() ?? 0) + 1))
        func root(_ x: Int) -> Int {   // iterative, with path halving: no recursion depth
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for (r, p) in edges {
            let a = root(r), b = root(refCount + p)
            if a != b { parent[max(a, b)] = min(a, b) }
        }
        var groups: [Int: [Int]] = [:]
        for (k, (r, _)) in edges.enumerated() { groups[root(r), default: []].append(k) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// The matched pairs of one connected group of candidates.
    /// - Throws: `CMFError.outOfMemory` for a group too large to match exactly, naming its size.
    static func assign(_ candidates: [(r: Int, p: Int, inter: Int, dice: Double)]) throws -> [(Int, Int, Int)] {
        let rows = Array(Set(candidates.map(\.r))).sorted()
        let cols = Array(Set(candidates.map(\.p))).sorted()
        let entries = rows.count * cols.count
        let work = Double(min(rows.count, cols.count)) * Double(min(rows.count, cols.count)) * Double(max(rows.count, cols.count))
        guard entries <= maxGroupEntries, work <= maxGroupWork else {
            throw CMFError.outOfMemory("lesion-wise matching: \(rows.count) reference and \(cols.count) predicted lesions overlap in one connected group (\(candidates.count) overlapping pairs); exact matching handles groups of up to \(maxGroupEntries) lesion pairs and \(Int(maxGroupWork)) solver steps")
        }
        if rows.count == 1 && cols.count == 1 {   // the usual case, without the solver
            let c = candidates[0]
            return 1.0 - c.dice < 1.0 ? [(c.r, c.p, c.inter)] : []
        }
        let rowIndex = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
        let colIndex = Dictionary(uniqueKeysWithValues: cols.enumerated().map { ($1, $0) })
        var cost = [Double](repeating: 1.0 + 1e-6, count: entries)
        var inter = [Int](repeating: 0, count: entries)
        for c in candidates {
            let k = rowIndex[c.r]! * cols.count + colIndex[c.p]!
            cost[k] = 1.0 - c.dice
            inter[k] = c.inter
        }
        var result: [(Int, Int, Int)] = []
        for (i, j) in BipartiteMatching.minimumCostAssignment(cost: cost, rows: rows.count, cols: cols.count)
        where cost[i * cols.count + j] < 1.0 {
            result.append((rows[i], cols[j], inter[i * cols.count + j]))
        }
        return result
    }

    /// HD95 (mm) between reference component r and prediction component p.
    func instanceHD95(_ ref: Components, _ r: Int, _ pred: Components, _ p: Int) throws -> Double {
        let box = ref.boxes[r].union(pred.boxes[p]).grown(by: 1, within: shape)
        let a = crop(ref.labels, id: Int32(r + 1), box: box)
        let b = crop(pred.labels, id: Int32(p + 1), box: box)
        let d = try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try SurfaceDistances(a: pa, b: pb, shape: box.shape, spacing: spacing, threads: Int(threads))
            }
        }
        return d.hd95
    }

    func crop(_ labels: [Int32], id: Int32, box: Box) -> [UInt8] {
        let count = box.shape.count
        var kb = box.kernelBox
        return [UInt8](unsafeUninitializedCapacity: count) { buf, written in
            cmfk_crop_id_i32(labels, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz), id, &kb,
                             buf.baseAddress)
            written = count
        }
    }
}
