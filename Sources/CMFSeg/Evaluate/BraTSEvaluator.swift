import CCMFKernels

/// Evaluates a predicted BraTS label map against a reference as the BraTS challenge does:
/// per region (WT, TC, ET) the whole-region metrics of MedPy / panoptica and the
/// lesion-wise metrics of the official `brats-evaluation` package (panoptica), with the
/// conventions of ``RegionMetrics`` and ``LesionMetrics``.
///
/// Work is cropped to the bounding box of the two masks of a region plus one voxel (kept at
/// the image edge where it touches it), so crops create no border voxel the full image
/// lacks; the kernels (border extraction, exact EDT, connected components, counts) are the
/// C + OpenMP ones of `CCMFKernels`. An evaluator is a value: use one per thread or share it.
public struct BraTSEvaluator: Sendable {
    public var options: EvaluationOptions

    public init(options: EvaluationOptions = EvaluationOptions()) {
        self.options = options
    }

    /// Evaluates two label maps in memory.
    /// - Throws: `CMFError.shape` when the grids differ (sizes always; spacing or affine
    ///   unless `options.ignoreGeometry`), `.invalidArgument` for a label outside
    ///   `options.labels`, a non-positive spacing or bad options, `.outOfMemory`.
    public func evaluate(reference: LabelMap, prediction: LabelMap) throws -> EvaluationResult {
        try evaluate(reference: reference, prediction: prediction,
                     referenceName: "reference", predictionName: "prediction")
    }

    /// Reads two NIfTI label maps (``Nifti/readLabels(_:)``) and evaluates them.
    /// - Throws: the errors of ``Nifti/readLabels(_:)`` and of ``evaluate(reference:prediction:)``,
    ///   with messages naming the files.
    public func evaluate(referencePath: String, predictionPath: String) throws -> EvaluationResult {
        let reference = try Nifti.readLabels(referencePath, limits: options.limits)
        let prediction = try Nifti.readLabels(predictionPath, limits: options.limits)
        return try evaluate(reference: reference, prediction: prediction,
                            referenceName: referencePath, predictionName: predictionPath)
    }

    func evaluate(reference: LabelMap, prediction: LabelMap, referenceName: String,
                  predictionName: String) throws -> EvaluationResult {
        guard reference.voxels.count == reference.shape.count,
              prediction.voxels.count == prediction.shape.count else {
            throw CMFError.invalidArgument("label map voxel count does not match its shape")
        }
        if options.ignoreGeometry {
            if reference.shape != prediction.shape {
                throw CMFError.shape("\(referenceName) (\(reference.shape)) and \(predictionName) (\(prediction.shape)) are not on the same grid: dims differ")
            }
        } else {
            try Nifti.requireSameGrid([
                (name: referenceName, shape: reference.shape, geometry: reference.geometry),
                (name: predictionName, shape: prediction.shape, geometry: prediction.geometry),
            ])
        }
        return try reference.voxels.withUnsafeBufferPointer { ref in
            try prediction.voxels.withUnsafeBufferPointer { pred in
                try evaluate(reference: ref, prediction: pred, shape: reference.shape,
                             spacing: reference.geometry.spacing,
                             referenceName: referenceName, predictionName: predictionName)
            }
        }
    }

    /// Evaluates raw label voxels (x fastest, `shape.count` each) on one grid of the given
    /// spacing, without copying them (the C API's entry point). The names appear in messages.
    /// - Throws: as ``evaluate(reference:prediction:)``.
    public func evaluate(reference: UnsafeBufferPointer<UInt8>, prediction: UnsafeBufferPointer<UInt8>,
                  shape: Shape3, spacing: SIMD3<Double>, referenceName: String = "reference",
                  predictionName: String = "prediction") throws -> EvaluationResult {
        try options.validate()
        guard shape.nx > 0, shape.ny > 0, shape.nz > 0 else {
            throw CMFError.invalidArgument("grid \(shape) is empty")
        }
        guard reference.count == shape.count, prediction.count == shape.count else {
            throw CMFError.invalidArgument("label maps hold \(reference.count) and \(prediction.count) voxels, the grid \(shape) needs \(shape.count)")
        }
        for i in 0..<3 where !(spacing[i].isFinite && spacing[i] > 0) {
            throw CMFError.invalidArgument("spacing \(spacing.x) × \(spacing.y) × \(spacing.z) mm of \(referenceName) is not positive")
        }
        try (options.limits ?? ResourceLimits.current()).check(
            voxels: shape.count, bytes: EvaluationOptions.estimatedBytes(voxels: shape.count),
            for: "evaluating \(predictionName) against \(referenceName) (\(shape))")
        let lut = options.labels.regionLookupTable
        let nregions = TumorRegion.allCases.count
        var counts = [Int64](repeating: 0, count: 3 * nregions)
        var boxes = [Int64](repeating: 0, count: 6 * nregions)
        var bad: [Int64] = [-1, -1]
        cmfk_label_stats_u8(reference.baseAddress, prediction.baseAddress, Int64(shape.nx),
                            Int64(shape.ny), Int64(shape.nz), lut, Int32(nregions), &counts,
                            &boxes, &bad, Int32(clamping: options.threads))
        for (which, name, voxels) in [(0, referenceName, reference), (1, predictionName, prediction)] where bad[which] >= 0 {
            let i = Int(bad[which])
            let (x, y, z) = (i % shape.nx, (i / shape.nx) % shape.ny, i / (shape.nx * shape.ny))
            let allowed = options.labels.allowedLabels.map(String.init).joined(separator: ", ")
            throw CMFError.invalidArgument("\(name): voxel (\(x), \(y), \(z)) has label \(voxels[i]), not a \(options.labels.displayName) label (\(allowed)); choose the label convention with --labels")
        }
        let context = CaseContext(reference: reference, prediction: prediction, shape: shape,
                                  spacing: spacing, lut: lut, options: options)
        var regions: [RegionMetrics] = []
        for region in TumorRegion.allCases {
            let k = region.rawValue
            let box = Box(boxes[(6 * k)..<(6 * k + 6)].map(Int.init))
            regions.append(try context.metrics(bits: UInt8(1 << k), refCount: Int(counts[3 * k]),
                                               predCount: Int(counts[3 * k + 1]),
                                               intersection: Int(counts[3 * k + 2]), box: box))
        }
        return EvaluationResult(regions: regions, spacing: spacing)
    }
}

/// An inclusive voxel box {x0, x1, y0, y1, z0, z1} (empty when x0 > x1).
struct Box: Equatable {
    var lo: SIMD3<Int>, hi: SIMD3<Int>

    init(_ v: [Int]) {
        lo = SIMD3(v[0], v[2], v[4])
        hi = SIMD3(v[1], v[3], v[5])
    }

    init(lo: SIMD3<Int>, hi: SIMD3<Int>) {
        self.lo = lo
        self.hi = hi
    }

    var isEmpty: Bool { lo.x > hi.x }
    var shape: Shape3 { Shape3(hi.x - lo.x + 1, hi.y - lo.y + 1, hi.z - lo.z + 1) }
    var kernelBox: [Int64] { [lo.x, hi.x, lo.y, hi.y, lo.z, hi.z].map(Int64.init) }

    func union(_ o: Box) -> Box {
        Box(lo: pointwiseMin(lo, o.lo), hi: pointwiseMax(hi, o.hi))
    }

    /// Grown by `margin` voxels, clamped to a grid of `shape`.
    func grown(by margin: Int, within shape: Shape3) -> Box {
        let limit = SIMD3(shape.nx - 1, shape.ny - 1, shape.nz - 1)
        return Box(lo: pointwiseMax(lo &- margin, SIMD3(repeating: 0)),
                   hi: pointwiseMin(hi &+ margin, limit))
    }
}

/// Everything one case needs while its regions are evaluated.
struct CaseContext {
    let reference: UnsafeBufferPointer<UInt8>
    let prediction: UnsafeBufferPointer<UInt8>
    let shape: Shape3
    let spacing: SIMD3<Double>
    let lut: [UInt8]
    let options: EvaluationOptions

    var threads: Int32 { Int32(clamping: options.threads) }

    /// The diagonal of the image in mm, sqrt(sum((n_i * s_i)^2)).
    var diagonal: Double {
        let a = Double(shape.nx) * spacing.x, b = Double(shape.ny) * spacing.y
        let c = Double(shape.nz) * spacing.z
        return (a * a + b * b + c * c).squareRoot()
    }

    var emptyDistance: Double {
        switch options.emptyDistance {
        case .diagonal: return diagonal
        case .infinity: return .infinity
        case .nan: return .nan
        case .value(let v): return v
        }
    }

    func metrics(bits: UInt8, refCount: Int, predCount: Int, intersection: Int, box: Box) throws -> RegionMetrics {
        let n = shape.count
        let voxelVolume = spacing.x * spacing.y * spacing.z
        let dice: Double, sensitivity: Double
        if refCount == 0 && predCount == 0 {
            dice = 1
            sensitivity = 1
        } else {
            dice = 2.0 * Double(intersection) / Double(refCount + predCount)
            sensitivity = refCount == 0 ? 0 : Double(intersection) / Double(refCount)
        }
        let tn = n - (refCount + predCount - intersection), fp = predCount - intersection
        let specificity = tn + fp == 0 ? 0 : Double(tn) / Double(tn + fp)
        var metrics = RegionMetrics(
            dice: dice, hd95: 0, sensitivity: sensitivity, specificity: specificity, hd: 0, assd: 0,
            volumeRefMM3: Double(refCount) * voxelVolume, volumePredMM3: Double(predCount) * voxelVolume,
            nsd: 1, lesion: LesionMetrics(tp: 0, fp: 0, fn: 0, rq: .nan, sqDice: .nan, sqHD95: .nan, pq: .nan),
            refVoxels: refCount, predVoxels: predCount, intersectionVoxels: intersection)
        if refCount == 0 && predCount == 0 { return metrics }

        let crop = box.grown(by: 1, within: shape)
        let cropShape = crop.shape
        let a = extract(reference, bits: bits, crop: crop)
        let b = extract(prediction, bits: bits, crop: crop)
        if refCount > 0 && predCount > 0 {
            let d = try a.withUnsafeBufferPointer { pa in
                try b.withUnsafeBufferPointer { pb in
                    try SurfaceDistances(a: pa, b: pb, shape: cropShape, spacing: spacing,
                                         threads: Int(threads))
                }
            }
            metrics.hd95 = d.hd95
            metrics.hd = d.hd
            metrics.assd = d.assd
            metrics.nsd = d.nsd(tolerance: options.nsdToleranceMM ?? spacing.min())
        } else {
            let e = emptyDistance
            metrics.hd95 = e
            metrics.hd = e
            metrics.assd = e
            metrics.nsd = 0
        }
        metrics.lesion = try LesionMatcher(shape: cropShape, spacing: spacing, threads: threads)
            .evaluate(reference: a, refCount: refCount, prediction: b, predCount: predCount,
                      overlap: intersection)
        return metrics
    }

    /// The region mask of `labels` inside `crop`, as 0/1 bytes.
    func extract(_ labels: UnsafeBufferPointer<UInt8>, bits: UInt8, crop: Box) -> [UInt8] {
        let count = crop.shape.count
        var box = crop.kernelBox
        return [UInt8](unsafeUninitializedCapacity: count) { buf, written in
            cmfk_crop_bits_u8(labels.baseAddress, Int64(shape.nx), Int64(shape.ny), Int64(shape.nz),
                              lut, bits, &box, buf.baseAddress)
            written = count
        }
    }
}
