/// How a forward pass runs: which convolution engine and how many threads.
/// Passed down through every layer so models never pick an engine themselves.
public struct ForwardContext: Sendable {
    public var engine: any ConvolutionEngine
    /// Worker threads (`<= 0`: OpenMP's default).
    public var threads: Int

    public init(engine: any ConvolutionEngine = defaultConvolutionEngine(), threads: Int = 0) {
        self.engine = engine
        self.threads = threads
    }
}
