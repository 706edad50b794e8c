import CCMFKernels

/// Progress reporting and cancellation for long runs. Both are optional. Progress is
/// reported between network calls (a window, or one flip of a window), on the calling
/// thread; the cancel flag is polled there and between the layers of each network call, so
/// a cancelled run stops within one layer.
public struct InferenceControl {
    /// Called with the finished fraction in 0...1 after each network call (and 0 at the start
    /// and 1 at the end of a segmentation); returning false stops the run with
    /// `CMFError.aborted`.
    public var progress: ((Double) -> Bool)?
    /// Polled before each network call and between its layers; returning true stops the run
    /// with `CMFError.aborted`.
    public var isCancelled: (@Sendable () -> Bool)?

    public init(progress: ((Double) -> Bool)? = nil, isCancelled: (@Sendable () -> Bool)? = nil) {
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

/// A cancel flag owned by a host (C or Python): an `int32_t` it sets to non-zero from any
/// thread; read atomically.
public struct HostCancelFlag: @unchecked Sendable {
    // the host keeps the flag alive for the call it passed it to (the C API's contract)
    private let address: UnsafePointer<Int32>

    public init(_ address: UnsafePointer<Int32>) { self.address = address }

    public var isSet: Bool { cmfk_flag_is_set(address) != 0 }
}
