/// Minimum-cost assignment on a dense rectangular cost matrix (the Hungarian algorithm with
/// potentials, O(rows² · cols)), the problem `scipy.optimize.linear_sum_assignment` solves.
enum BipartiteMatching {
    /// - Parameters:
    ///   - cost: `rows × cols` costs, row-major, finite.
    /// - Returns: for each row, its column, when rows <= cols; otherwise for each column its
    ///   row is found by solving the transpose. The result lists (row, column) pairs of a
    ///   minimum-cost assignment of size min(rows, cols).
    static func minimumCostAssignment(cost: [Double], rows: Int, cols: Int) -> [(Int, Int)] {
        if rows == 0 || cols == 0 { return [] }
        if rows > cols {
            var t = [Double](repeating: 0, count: rows * cols)
            for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = cost[r * cols + c] } }
            return minimumCostAssignment(cost: t, rows: cols, cols: rows).map { ($0.1, $0.0) }
        }
        let n = rows, m = cols
        var u = [Double](repeating: 0, count: n + 1)
        var v = [Double](repeating: 0, count: m + 1)
        var p = [Int](repeating: 0, count: m + 1)  // p[j] = row (1-based) assigned to column j
        var way = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity
                var j1 = 0
                for j in 1...m where !used[j] {
                    let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...m {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var result: [(Int, Int)] = []
        for j in 1...m where p[j] != 0 { result.append((p[j] - 1, j - 1)) }
        return result.sorted { $0.0 < $1.0 }
    }
}
