import Foundation

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
            FileHandle.standardError.write(Data(String(format: "\rcmfseg: \(label) %3d%% (%.0f s)", pct, elapsed).utf8))
        }
        return true
    }

    /// Ends the line.
    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
