import CMFSeg
import FoundationEssentials

/// The CLI's progress line on stderr, `\rcmfseg: <label> NN% (T s)`, redrawn only when the
/// percentage changes.
final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let start = Date()
    private var lastShown = -1

    init(_ label: String) { self.label = label }

    /// The callback for `InferenceControl(progress:)`; never asks to stop.
    func update(_ fraction: Double) -> Bool {
        let pct = Int((fraction * 100).rounded(.down))
        if pct != lastShown {
            lastShown = pct
            let elapsed = Date().timeIntervalSince(start)
            writeStandardError("\rcmfseg: \(label) " + String(cFormat: "%3ld%% (%.0f s)", pct, elapsed))
        }
        return true
    }

    /// Ends the line, if one was drawn.
    func finish() {
        if lastShown >= 0 { writeStandardError("\n") }
    }

    /// Runs `body` with the progress callback of a line labelled `label` (none when
    /// `quiet`), and ends the line however `body` ends, so that an error message that
    /// follows starts a line of its own.
    static func showing<T>(_ label: String, quiet: Bool = false,
                           _ body: (_ progress: ((Double) -> Bool)?) throws -> T) rethrows -> T {
        let line = quiet ? nil : ProgressLine(label)
        defer { line?.finish() }
        return try body(line.map { l in { l.update($0) } })
    }
}
