extension SegmentationModel {
    /// Where the default model lives among the bundled resources (``BundledResources``).
    public static let defaultModelResource = "models/cmfseg-default.safetensors"

    /// Loads the model shipped with the library.
    /// - Throws: `CMFError.unsupported` when this build has none (`cmfseg train`
    ///   produces it); errors of ``init(weightPaths:context:)`` for a damaged file.
    public static func loadDefault(context: ForwardContext = ForwardContext()) throws -> SegmentationModel {
        let url: String
        do {
            url = try BundledResources.file(defaultModelResource).path
        } catch {
            throw CMFError.unsupported("no default model is bundled with this build yet; load your own weight files (for example a model made by cmfseg train)")
        }
        return try SegmentationModel(weightPaths: [url], context: context)
    }
}
