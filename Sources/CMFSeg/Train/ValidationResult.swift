import FoundationEssentials
import Glibc

/// BraTS scores of whole-case segmentations of the validation cases.
public struct ValidationResult: Sendable {
    public struct CaseScore: Sendable {
        public var name: String
        public var result: EvaluationResult
    }
    public var cases: [CaseScore]

    /// Mean Dice of a region over the cases.
    public func meanDice(_ region: TumorRegion) -> Double {
        CohortSummary(cases.map(\.result)).dice[region.rawValue].value
    }

    /// Mean of the WT, TC and ET mean Dice: what "best" means for model selection.
    public var meanDice: Double { TumorRegion.allCases.map(meanDice).reduce(0, +) / 3 }

    /// "WT 0.912 TC 0.851 ET 0.803 (4 cases)".
    public var summary: String {
        TumorRegion.allCases.map { "\($0) \(String(cFormat: "%.3f", meanDice($0)))" }.joined(separator: " ")
            + " (\(cases.count) case\(cases.count == 1 ? "" : "s"))"
    }

    static let csvHeader = ["step", "case", "dice_wt", "dice_tc", "dice_et", "hd95_wt", "hd95_tc", "hd95_et"]

    func csvRows(step: Int) -> [[String]] {
        cases.map { c in
            [String(step), c.name] + TumorRegion.allCases.map { String(cFormat: "%.5f", c.result[$0].dice) }
                + TumorRegion.allCases.map { String(cFormat: "%.3f", c.result[$0].hd95) }
        }
    }
}

/// An append-only CSV file whose first column is the step. Opening it for a run resumed at
/// step k drops rows after k (written by the interrupted run after its last checkpoint), so
/// the log of a resumed run reads as that of an uninterrupted one.
final class CSVLog {
    let path: String
    private let fd: Int32

    init(path: String, header: [String], keepingRowsUpTo step: Int) throws {
        self.path = path
        var lines = [header.joined(separator: ",")]
        if let old = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in old.split(separator: "\n").dropFirst() {
                if let s = Int(line.prefix(while: { $0 != "," })), s <= step { lines.append(String(line)) }
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        try AtomicFile.write([(path: path, content: .bytes(Array(text.utf8)))])
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw CMFError.io("cannot open \(path) for appending: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    func append(_ fields: [String]) throws {
        let line = fields.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
        guard Array(line.utf8).withUnsafeBytes({ FileBytes.writeAll(fd, $0) }) else {
            throw CMFError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
