extension SegmentationModel {
    /// Where the default model lives among the bundled resources (``BundledResources``).
    public static let defaultModelResource = "models/cmfseg-default.safetensors"

    /// Loads the model shipped with the library (a CMFF network trained by `cmfseg train` on
    /// generated phantoms; its metadata says how).
    /// - Throws: `CMFError.io` naming the places searched when the installation lacks it;
    ///   errors of ``init(weightPaths:context:)`` for a damaged file.
    public static func loadDefault(context: ForwardContext = ForwardContext()) throws -> SegmentationModel {
        let url: String
        do {
            url = try BundledResources.file(defaultModelResource).path
        } catch CMFError.io(let message) {
            throw CMFError.io("the default model is missing from this installation: \(message), or load your own weight files")
        }
        return try SegmentationModel(weightPaths: [url], context: context)
    }
}
