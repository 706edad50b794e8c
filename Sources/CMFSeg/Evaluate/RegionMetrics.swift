/// Lesion-wise (instance) metrics of one region, as the official BraTS evaluation computes
/// them with panoptica (`brats-evaluation`, `config_gli`): lesions are the 26-connected
/// components of the region in reference and prediction, paired one-to-one by a maximum
/// bipartite matching on Dice, where a pair needs Dice >= 1e-6.
///
/// Conventions (panoptica's edge-case handler of `config_gli`): with no lesion in either
/// map, `rq`, `sqDice`, `sqHD95` and `pq` are NaN; with lesions but no match, `rq` = 0,
/// `sqDice` = 0, `sqHD95` = +infinity and `pq` = 0.
public struct LesionMetrics: Sendable, Equatable {
    /// Matched pairs (true positives), unmatched predicted lesions, unmatched reference lesions.
    public var tp: Int, fp: Int, fn: Int
    /// Recognition quality, the F1 score of lesion detection: tp / (tp + fp/2 + fn/2).
    public var rq: Double
    /// Segmentation quality: mean Dice over matched pairs.
    public var sqDice: Double
    /// Mean HD95 (mm) over matched pairs.
    public var sqHD95: Double
    /// Panoptic quality: rq × sqDice.
    public var pq: Double

    public init(tp: Int, fp: Int, fn: Int, rq: Double, sqDice: Double, sqHD95: Double, pq: Double) {
        self.tp = tp; self.fp = fp; self.fn = fn
        self.rq = rq; self.sqDice = sqDice; self.sqHD95 = sqHD95; self.pq = pq
    }
}

/// Whole-region metrics of one region (definitions: MedPy 0.5 / panoptica, see
/// `Sources/CMFSeg/Evaluate/README.md`).
///
/// - `dice` = 2|A∩B| / (|A|+|B|); both empty → 1; exactly one empty → 0.
/// - `sensitivity` = TP/(TP+FN); empty reference → 1 if the prediction is empty too, else 0.
/// - `specificity` = TN/(TN+FP) over the whole grid (MedPy's; 0 if the reference fills it).
/// - `hd95`: border(X) = X minus its erosion by the 6-connected cross (grid-edge voxels are
///   border voxels); distances in mm from every border voxel of A to the nearest border
///   voxel of B and vice versa, pooled, 95th percentile with numpy's linear interpolation.
/// - `hd`: the largest of those distances; `assd`: their mean (MedPy 0.5.2 pools both
///   directions; panoptica's ASSD would average the two directed means instead).
/// - `nsd`: panoptica's normalised surface Dice (the GaNDLF form): the mean of the fractions
///   of each border within the tolerance of the other border, distance <= tolerance.
/// - Distances with both masks empty are 0 (`nsd` 1); with one empty they follow
///   `EvaluationOptions.emptyDistance` (default: the image diagonal), and `nsd` is 0.
public struct RegionMetrics: Sendable, Equatable {
    public var dice: Double
    public var hd95: Double
    public var sensitivity: Double
    public var specificity: Double
    public var hd: Double
    public var assd: Double
    public var volumeRefMM3: Double
    public var volumePredMM3: Double
    public var nsd: Double
    public var lesion: LesionMetrics
    /// Voxel counts: reference, prediction, intersection.
    public var refVoxels: Int, predVoxels: Int, intersectionVoxels: Int

    public init(dice: Double, hd95: Double, sensitivity: Double, specificity: Double, hd: Double,
                assd: Double, volumeRefMM3: Double, volumePredMM3: Double, nsd: Double,
                lesion: LesionMetrics, refVoxels: Int, predVoxels: Int, intersectionVoxels: Int) {
        self.dice = dice; self.hd95 = hd95; self.sensitivity = sensitivity
        self.specificity = specificity; self.hd = hd; self.assd = assd
        self.volumeRefMM3 = volumeRefMM3; self.volumePredMM3 = volumePredMM3; self.nsd = nsd
        self.lesion = lesion
        self.refVoxels = refVoxels; self.predVoxels = predVoxels
        self.intersectionVoxels = intersectionVoxels
    }
}

/// The metrics of one case: one `RegionMetrics` per `TumorRegion`.
public struct EvaluationResult: Sendable, Equatable {
    /// Indexed by `TumorRegion.rawValue` (WT, TC, ET).
    public var regions: [RegionMetrics]
    /// The spacing (mm) the distances were measured with.
    public var spacing: SIMD3<Double>

    public init(regions: [RegionMetrics], spacing: SIMD3<Double>) {
        self.regions = regions
        self.spacing = spacing
    }

    public subscript(region: TumorRegion) -> RegionMetrics { regions[region.rawValue] }
}
