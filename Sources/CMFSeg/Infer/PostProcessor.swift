import CCMFKernels

/// Applies ``PostProcessOptions`` to a class map (network class order).
public enum PostProcessor {
    static let edema: UInt8 = 1, necrosis: UInt8 = 2, enhancing: UInt8 = 3

    /// - Parameters:
    ///   - classes: one class index per voxel of `grid` (0...3), changed in place.
    ///   - brainMask: 1 inside the brain (used when `options.applyBrainMask`), same size.
    ///   - threads: for the dilation kernel (≤ 0: OpenMP's default).
    /// - Throws: `CMFError.invalidArgument` (options, sizes), `.outOfMemory`.
    public static func apply(_ classes: inout [UInt8], grid: Shape3, brainMask: [UInt8]?,
                             options: PostProcessOptions, threads: Int = 0) throws {
        try options.validate()
        guard classes.count == grid.count else {
            throw CMFError.invalidArgument("label map has \(classes.count) voxels, grid \(grid) needs \(grid.count)")
        }
        if options.applyBrainMask {
            guard let brainMask, brainMask.count == grid.count else {
                throw CMFError.invalidArgument("post-processing needs a brain mask on the grid \(grid)")
            }
            for i in 0..<classes.count where brainMask[i] == 0 { classes[i] = 0 }
        }
        if options.componentCut.fraction > 0 {
            try removeSmallComponents(&classes, grid: grid, options: options, threads: threads)
        }
        var core = 0, et = 0
        for c in classes {
            if c == necrosis || c == enhancing { core += 1 }
            if c == enhancing { et += 1 }
        }
        if core < options.minCoreVoxels {
            for i in 0..<classes.count where classes[i] == edema { classes[i] = necrosis }
        }
        if et < options.minEnhancingVoxels {
            let to = options.smallEnhancingBecomes == .edema ? edema : necrosis
            for i in 0..<classes.count where classes[i] == enhancing { classes[i] = to }
        }
    }

    static func removeSmallComponents(_ classes: inout [UInt8], grid: Shape3, options: PostProcessOptions, threads: Int) throws {
        let n = grid.count
        var dilated = [UInt8](repeating: 0, count: n)
        var labels = [Int32](repeating: 0, count: n)
        let nx = Int64(grid.nx), ny = Int64(grid.ny), nz = Int64(grid.nz)
        let rc = classes.withUnsafeBufferPointer { c in
            dilated.withUnsafeMutableBufferPointer { d in
                cmfk_dilate_cross_u8(c.baseAddress, d.baseAddress, nx, ny, nz, Int32(options.groupingDilation), Int32(clamping: threads))
            }
        }
        try check(Int64(rc), "dilation")
        let count = dilated.withUnsafeBufferPointer { d in
            labels.withUnsafeMutableBufferPointer { l in
                cmfk_components_u8(d.baseAddress, nx, ny, nz, Int32(options.connectivity), l.baseAddress, nil, 0, Int32(clamping: threads))
            }
        }
        try check(count, "connected components")
        guard count > 1 else { return }
        var size = [Int](repeating: 0, count: Int(count) + 1)
        for i in 0..<n where classes[i] != 0 { size[Int(labels[i])] += 1 }
        let largest = size.max() ?? 0
        let cut = options.componentCut.threshold(largest: largest)
        for i in 0..<n where classes[i] != 0 && Double(size[Int(labels[i])]) < cut { classes[i] = 0 }
    }

    /// Maps a kernel's return code (0 or more: success) to an error.
    static func check(_ rc: Int64, _ what: String) throws {
        switch rc {
        case 0...: return
        case -1: throw CMFError.outOfMemory("post-processing \(what): allocation failed")
        default: throw CMFError.internal("post-processing \(what): kernel rejected its arguments (\(rc))")
        }
    }
}
