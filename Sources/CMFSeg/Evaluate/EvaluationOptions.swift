/// What a distance metric (HD95, HD, ASSD) reports when exactly one of the two masks is empty,
/// where no distance exists.
public enum EmptyDistancePolicy: Sendable, Equatable, CustomStringConvertible {
    /// The length of the image diagonal in mm, `sqrt(sum((n_i * spacing_i)^2))`
    /// (373.128664 mm on the 240×240×155 BraTS grid at 1 mm): the BraTS convention.
    case diagonal
    /// +infinity.
    case infinity
    /// NaN ("undefined").
    case nan
    /// A fixed number of millimetres.
    case value(Double)

    /// Parses "diagonal", "inf", "nan" or a number (as the CLI's `--empty-hd`).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "diagonal": self = .diagonal
        case "inf", "infinity", "+inf": self = .infinity
        case "nan": self = .nan
        default:
            guard let v = Double(text), v.isFinite else { return nil }
            self = .value(v)
        }
    }

    public var description: String {
        switch self {
        case .diagonal: return "diagonal"
        case .infinity: return "inf"
        case .nan: return "nan"
        case .value(let v): return "\(v)"
        }
    }
}

/// Options of a BraTS evaluation. The defaults reproduce the BraTS conventions
/// (`Sources/CMFSeg/Evaluate/README.md`).
public struct EvaluationOptions: Sendable, Equatable {
    /// Label values and regions (default BraTS 2018: 1/2/4).
    public var labels: LabelConvention
    /// Tolerance of the normalised surface Dice in mm; `nil` (the default) means the smallest
    /// voxel spacing, panoptica's default.
    public var nsdToleranceMM: Double?
    /// What HD95, HD and ASSD report when exactly one mask of a region is empty.
    public var emptyDistance: EmptyDistancePolicy
    /// Compare label maps whose spacing or affine differ (the reference's spacing is used);
    /// grid sizes must still agree.
    public var ignoreGeometry: Bool
    /// Threads for the kernels of one evaluation; <= 0 means OpenMP's default.
    public var threads: Int
    /// Caps on the grid and the memory of one evaluation; nil: the process's
    /// (``ResourceLimits/current()``).
    public var limits: ResourceLimits?

    /// What one evaluation of `voxels` may hold at once, at most: the two label maps, the
    /// region masks, borders and distance transforms of a crop, and per-lesion tables.
    /// Measured peaks: 6.5 bytes per voxel on BraTS cases, 24 for a tumour filling the
    /// grid, 52 for a grid of one-voxel lesions.
    public static func estimatedBytes(voxels: Int) -> Int { 64 * voxels }

    public init(labels: LabelConvention = .brats2018, nsdToleranceMM: Double? = nil,
                emptyDistance: EmptyDistancePolicy = .diagonal, ignoreGeometry: Bool = false,
                threads: Int = 0, limits: ResourceLimits? = nil) {
        self.labels = labels
        self.nsdToleranceMM = nsdToleranceMM
        self.emptyDistance = emptyDistance
        self.ignoreGeometry = ignoreGeometry
        self.threads = threads
        self.limits = limits
    }

    /// Checks the values a caller can get wrong.
    /// - Throws: `CMFError.invalidArgument` for a negative or non-finite NSD tolerance.
    public func validate() throws {
        if let t = nsdToleranceMM, !(t.isFinite && t >= 0) {
            throw CMFError.invalidArgument("NSD tolerance must be a finite number of mm >= 0, got \(t)")
        }
    }
}
