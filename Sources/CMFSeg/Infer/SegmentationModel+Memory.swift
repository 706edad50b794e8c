extension SegmentationModel {
    /// An upper estimate of the bytes one segmentation of a `grid` case allocates, for
    /// ``ResourceLimits``. Per voxel of the grid: the normalised inputs, the class
    /// probabilities and their weights, masks and labels, post-processing buffers, and the
    /// probabilities returned when asked for. Per voxel of a window: the network's
    /// activations, 72 · F bytes for width F (a CMFF of width 16 measured 1033 bytes per
    /// voxel: peak RSS of `cmfseg bench forward` at 64³ and 96³), and the window's tensors.
    public func estimatedBytes(grid: Shape3, options: SegmentationOptions) -> Int {
        let voxels = max(grid.count, options.window.patch.count)   // the padded crop is never larger
        let channels = pairs.joined().count, k = classCount
        var perVoxel = 4 * channels + 4 * k + 4 + 3 + 8
        if options.keepProbabilities { perVoxel += 4 * k + 4 }
        let window = options.window.patch.count
        return perVoxel * voxels + (72 * network.baseFilters + 4 * (channels + k + 1)) * window
    }

    /// Before anything is read: the files' grids (their headers) against the limits, with
    /// the images themselves counted in.
    func checkLimits(files paths: [Modality: String], options: SegmentationOptions) throws {
        guard let first = paths.values.sorted().first else { return }
        let grid = try Nifti.readHeader(first).shape
        try checkLimits(grid: grid, inputBytes: 4 * paths.count * grid.count, options: options,
                        what: "segmenting \(first) (\(grid))")
    }

    /// The window's bounds first (they keep the estimate's arithmetic far from overflow),
    /// then the grid and the estimate plus `inputBytes` against the limits.
    func checkLimits(grid: Shape3, inputBytes: Int, options: SegmentationOptions, what: String) throws {
        try options.window.validate(sizeMultiple: SegmentationPredictor.windowMultiple)
        try (options.limits ?? ResourceLimits.current()).check(
            voxels: grid.count, bytes: inputBytes + estimatedBytes(grid: grid, options: options),
            for: "\(what) with \(options.window.patch) windows")
    }
}
