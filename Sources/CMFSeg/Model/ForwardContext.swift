/// How a forward pass runs: which convolution engine and how many threads.
/// Passed down through every layer so models never pick an engine themselves.
public struct ForwardContext: Sendable {
    public var engine: any ConvolutionEngine
    /// Worker threads (`<= 0`: OpenMP's default).
    public var threads: Int

    /// Polled between layers; returning true ends the forward pass with `CMFError.aborted`
    /// (a 128³ CMFF forward takes seconds, so cancelling between windows alone is slow).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(engine: any ConvolutionEngine = defaultConvolutionEngine(), threads: Int = 0,
                isCancelled: (@Sendable () -> Bool)? = nil) {
        self.engine = engine
        self.threads = threads
        self.isCancelled = isCancelled
    }

    /// - Throws: `CMFError.aborted` when `isCancelled` says so.
    public func checkCancelled() throws {
        if let isCancelled, isCancelled() { throw CMFError.aborted("forward pass cancelled") }
    }
}
