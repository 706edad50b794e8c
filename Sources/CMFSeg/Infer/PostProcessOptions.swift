/// BraTS post-processing of a label map, in the network's class order (0 background,
/// 1 edema ED, 2 necrotic / non-enhancing core NCR, 3 enhancing tumour ET).
///
/// Defaults reproduce the authors' `seg_post.py`, steps in this order:
/// 1. `applyBrainMask`: labels outside the brain mask (see ``PreprocessOptions/BrainMaskRule``)
///    are set to background;
/// 2. small-component removal: the tumour (any non-zero label) is dilated `groupingDilation`
///    times by the 6-connected cross, the dilated mask split into `connectivity`-connected
///    components, and each component's size counted in tumour voxels (before dilation); when
///    there are at least two components, those smaller than ``componentCut`` of the largest
///    are set to background (a fraction 0 disables the step);
/// 3. if NCR + ET < `minCoreVoxels`, every ED voxel becomes NCR (0 disables);
/// 4. if ET < `minEnhancingVoxels`, every ET voxel becomes `smallEnhancingBecomes` (0 disables):
///    the authors use edema (threshold 500 in their run); nnU-Net's BraTS variant uses
///    necrosis (keeps the tumour core intact, threshold tuned on validation data).
public struct PostProcessOptions: Equatable, Sendable {
    public enum SmallEnhancingTarget: String, Equatable, Sendable {
        /// ET → ED (the authors' `seg_post.py`).
        case edema
        /// ET → NCR/NET (nnU-Net's BraTS post-processing).
        case necrosis
    }

    /// Step 2's cut: a component is dropped when it has fewer tumour voxels than this share
    /// of the largest one.
    public enum ComponentCut: Equatable, Sendable {
        /// The largest / 3, computed as the authors' `seg_post.py` does (`max / 3.0`), so
        /// that ties are decided exactly as there.
        case authorsThird
        /// `fraction` × the largest, `fraction` in 0...1; 0 switches the step off.
        case fraction(Double)

        /// The share as a number (1/3 for ``authorsThird``).
        public var fraction: Double {
            switch self {
            case .authorsThird: return 1.0 / 3
            case .fraction(let f): return f
            }
        }

        /// The size below which a component is dropped, given the largest one's.
        func threshold(largest: Int) -> Double {
            switch self {
            case .authorsThird: return Double(largest) / 3.0
            case .fraction(let f): return f * Double(largest)
            }
        }
    }

    public var applyBrainMask = true
    public var componentCut: ComponentCut = .authorsThird
    /// ``componentCut`` as a number, for front ends that take a fraction; setting it stores
    /// `.fraction(newValue)`.
    public var componentFraction: Double {
        get { componentCut.fraction }
        set { componentCut = .fraction(newValue) }
    }
    public var groupingDilation = 2
    /// 6 (scipy's default, the authors' choice), 18 or 26.
    public var connectivity = 6
    public var minCoreVoxels = 10
    public var minEnhancingVoxels = 500
    public var smallEnhancingBecomes: SmallEnhancingTarget = .edema

    public init() {}

    /// - Throws: `CMFError.invalidArgument` naming the bad field.
    public func validate() throws {
        let componentFraction = componentCut.fraction
        guard componentFraction.isFinite, componentFraction >= 0, componentFraction <= 1 else {
            throw CMFError.invalidArgument("post-processing component fraction must be in [0, 1] (got \(componentFraction))")
        }
        guard groupingDilation >= 0, groupingDilation <= 64 else {
            throw CMFError.invalidArgument("post-processing grouping dilation must be in 0...64 voxels (got \(groupingDilation))")
        }
        guard [6, 18, 26].contains(connectivity) else {
            throw CMFError.invalidArgument("post-processing connectivity must be 6, 18 or 26 (got \(connectivity))")
        }
        guard minCoreVoxels >= 0, minEnhancingVoxels >= 0 else {
            throw CMFError.invalidArgument("post-processing voxel thresholds must be >= 0 (got \(minCoreVoxels), \(minEnhancingVoxels))")
        }
    }
}
