/// A `PatchPredictor` over a loaded segmentation network, following one `Route`.
public struct SegmentationPredictor: PatchPredictor {
    public let network: Network
    public let route: SegmentationModel.Route
    public let modalities: [Modality]
    public let classCount: Int
    public var context: ForwardContext
    public var sizeMultiple: Int { Self.windowMultiple }
    /// Window sides are multiples of this: the U-Net halves each side four times.
    public static let windowMultiple = 16

    public func probabilities(for input: Tensor) throws -> Tensor {
        let (_, c, _, _, _) = try input.dims5("patch")
        guard c == modalities.count else {
            throw CMFError.shape("patch has \(c) channels, the predictor reads \(modalities.count) (\(modalities.map(\.rawValue).joined(separator: ",")))")
        }
        switch (network.body, route) {
        case (.cmff(let m), .fused):
            let half = m.net0.inChannels
            return try m.forward(input.channels(0..<half), input.channels(half..<c), context).fused
        case (.cmff(let m), .branchA):
            return try M2G.branchSoftmax(m.net0, input, context)
        case (.cmff(let m), .branchB):
            return try M2G.branchSoftmax(m.net1, input, context)
        case (.unet(let u), .single):
            return try M2G.branchSoftmax(u, input, context)
        default:
            throw CMFError.internal("route \(route) does not fit a \(network.architecture.rawValue) network")
        }
    }
}
