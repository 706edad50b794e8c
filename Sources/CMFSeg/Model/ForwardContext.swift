/// How a forward pass runs: which convolution engine and how many threads.
/// Passed down through every layer so models never pick an engine themselves.
public struct ForwardContext: Sendable {
    public var engine: any ConvolutionEngine
    /// Worker threads (`<= 0`: OpenMP's default).
    public var threads: Int

    /// Polled between layers; returning true ends the forward pass with `CMFError.aborted`
    /// (a 128³ CMFF forward takes seconds, so cancelling between windows alone is slow).
    public var isCancelled: (@Sendable () -> Bool)?

    /// Leaky-ReLU derivatives pinned at given voxels of given blocks (block name as in the
    /// parameter names, e.g. `net_0.conv_norm_lrelu_13`; flat `[N, C, D, H, W]` index;
    /// derivative 1 or the slope). Empty in normal use. A voxel whose normalised value is
    /// within float rounding of 0 sits on either side of the kink depending on summation
    /// order; comparing gradients with an oracle (PyTorch) needs the oracle's choices there.
    public var pinnedLeakyDerivatives: [String: [(index: Int, derivative: Float)]] = [:]

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
