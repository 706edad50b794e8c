/// What the segmentation pipeline needs of a network: class probabilities for one patch.
///
/// The pipeline (crop, normalise, slide windows, stitch, post-process) talks only to this
/// protocol, so it can be tested with position-independent fake networks and so every model
/// (CMFF, a single CMFF branch, the baselines) plugs in the same way.
public protocol PatchPredictor: Sendable {
    /// The modalities read, in input-channel order (e.g. `[.t1, .t1ce, .t2, .flair]`).
    var modalities: [Modality] { get }
    /// Number of output classes (4 for BraTS: background, edema, NCR/NET, ET internally).
    var classCount: Int { get }
    /// Spatial sizes of a patch must be multiples of this (16 for a 5-level U-Net).
    var sizeMultiple: Int { get }
    /// Class probabilities `[1, classCount, D, H, W]` for the input `[1, modalities.count,
    /// D, H, W]` (each channel normalised as the pipeline documents).
    /// - Throws: `CMFError.shape` for sizes the network cannot take; `.aborted` if cancelled.
    func probabilities(for input: Tensor) throws -> Tensor
}
