/// The network architectures cmfseg runs (metadata key `architecture`).
public enum Architecture: String, Sendable, CaseIterable {
    /// CMFF with mask guidance (`M2G`): the method's segmentation model.
    case cmffM2G = "cmff-m2g"
    /// CMFF fusion without mask guidance (the authors' `M2` ablation).
    case cmffM2 = "cmff-m2"
    /// One `M3DUNet` on one modality pair, 4 classes + softmax (ablation baseline).
    case unetSinglePair = "unet-single-pair"
    /// One `M3DUNet` on all four modalities, 4 classes + softmax (baseline, base 20).
    case unet4Mod = "unet-4mod"
    /// The CMFT generator (`M3DUNet(2, 2, 16)`), linear output.
    case generator
    /// The CMFT discriminator (`Disc(2, 1, 16)`).
    case discriminator

    /// Whether the network outputs class probabilities usable for segmentation.
    public var isSegmentation: Bool {
        switch self {
        case .cmffM2G, .cmffM2, .unetSinglePair, .unet4Mod: return true
        case .generator, .discriminator: return false
        }
    }

    /// The authors' leaky-ReLU slope: 0.01 (PyTorch default) in the segmentation networks,
    /// 0.2 in the GAN.
    public var defaultLeakySlope: Float { isSegmentation ? 0.01 : 0.2 }
}
