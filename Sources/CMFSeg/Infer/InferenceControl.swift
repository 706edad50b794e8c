/// Progress reporting and cancellation for long runs. Both are optional; both are consulted
/// only between network calls (a window, or one flip of a window), on the calling thread.
public struct InferenceControl {
    /// Called with the finished fraction in 0...1 after each network call (and 0 at the start
    /// and 1 at the end of a segmentation); returning false stops the run with
    /// `CMFError.aborted`.
    public var progress: ((Double) -> Bool)?
    /// Polled before each network call; returning true stops the run with `CMFError.aborted`.
    public var isCancelled: (() -> Bool)?

    public init(progress: ((Double) -> Bool)? = nil, isCancelled: (() -> Bool)? = nil) {
        self.progress = progress
        self.isCancelled = isCancelled
    }

    /// - Throws: `CMFError.aborted` when the cancel flag is set.
    func check(done: Int, of total: Int) throws {
        if let isCancelled, isCancelled() {
            throw CMFError.aborted("segmentation cancelled after \(done) of \(total) network calls")
        }
    }

    /// - Throws: `CMFError.aborted` when the progress callback returns false.
    func report(done: Int, of total: Int) throws {
        try report(fraction: total > 0 ? Double(done) / Double(total) : 1, detail: "after \(done) of \(total) network calls")
    }

    func report(fraction: Double, detail: String) throws {
        if let progress, !progress(min(max(fraction, 0), 1)) {
            throw CMFError.aborted("segmentation stopped by the progress callback \(detail)")
        }
    }
}
