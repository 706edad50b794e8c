/// Generates BraTS-like synthetic cases from a tissue template (see the `Phantom` folder:
/// `AnatomyWarp` → `GliomaPlacement` → `MassEffect` → `GliomaPainter` → `TumourLabels` →
/// `ContrastSynthesis`).
///
/// Deterministic: case `index` of seed `seed` is a function of (template, grid, variant,
/// seed, index) only — byte-identical whatever the thread count or the number of cases asked for.
public struct PhantomGenerator: Sendable {
    public var template: TissueTemplate
    public var seed: UInt64
    public var grid: PhantomGrid
    /// OpenMP threads for the voxel kernels (≤ 0: OpenMP's default).
    public var threads: Int
    /// The family the cases are drawn from (`standard` unless a model is to be tested on
    /// cases unlike its training data).
    public var variant: PhantomVariant

    /// - Throws: `CMFError.invalidArgument` for a grid with fewer than 16 or more than 512
    ///   voxels along an axis or more than 20 M voxels in all (a case holds about 25 float
    ///   volumes while it is made: 0.8 GB for the 8.9 M-voxel BraTS grid), or a spacing
    ///   outside 0.25–16 mm.
    public init(template: TissueTemplate, seed: UInt64, grid: PhantomGrid = .brats, threads: Int = 0,
                variant: PhantomVariant = .standard) throws {
        let s = grid.shape
        guard s.nx >= 16, s.ny >= 16, s.nz >= 16, s.nx <= 512, s.ny <= 512, s.nz <= 512, s.count <= 20_000_000 else {
            throw CMFError.invalidArgument("phantom grid \(s) must have 16–512 voxels per axis and at most 20 M voxels")
        }
        guard grid.spacing.isFinite, grid.spacing >= 0.25, grid.spacing <= 16 else {
            throw CMFError.invalidArgument("phantom grid spacing \(grid.spacing) mm must be in 0.25–16")
        }
        self.template = template
        self.seed = seed
        self.grid = grid
        self.threads = threads
        self.variant = variant
    }

    /// Case `index` (≥ 0).
    /// - Throws: `CMFError.invalidArgument` for a negative index, `.outOfMemory` from kernels.
    public func generate(index: Int) throws -> PhantomCase {
        try generateWithTissue(index: index).phantom
    }

    /// The case and the tissue fractions it was drawn from (tests measure contrasts per tissue).
    func generateWithTissue(index: Int) throws -> (phantom: PhantomCase, tissue: TissueMaps) {
        guard index >= 0 else { throw CMFError.invalidArgument("phantom case index \(index) must be ≥ 0") }
        var rng = SeededRandom(seed: SeededRandom.derivedSeed(seed, index: index))
        let warp = AnatomyWarp.random(&rng)
        var displacement = try warp.displacement(grid: grid, threads: threads, rng: &rng)
        let unpushed = try warp.resample(template, grid: grid, displacement: displacement, threads: threads)
        let gliomas = GliomaPlacement.random(tissue: unpushed, grid: grid, ranges: variant.ranges, rng: &rng)
        guard !gliomas.isEmpty else {
            throw CMFError.internal("phantom \(index): no place for a tumour (the warped brain is empty)")
        }
        MassEffect.add(gliomas, grid: grid, to: &displacement)
        let tissue = try warp.resample(template, grid: grid, displacement: displacement, threads: threads)
        var tumour = TumourFractions(count: grid.shape.count)
        try GliomaPainter.paint(gliomas, tissue: tissue, grid: grid, rng: &rng, into: &tumour)
        let labels = TumourLabels.labels(tissue: tissue, tumour: tumour)
        let synthesis = ContrastSynthesis.random(&rng, variant.ranges)
        let contrasts = try synthesis.render(tissue: tissue, tumour: tumour, grid: grid, threads: threads, rng: &rng)
        let geometry = grid.geometry
        var images: [Modality: ImageVolume] = [:]
        for m in Modality.allCases {
            images[m] = ImageVolume(shape: grid.shape, geometry: geometry, voxels: contrasts[m] ?? [])
        }
        let phantom = PhantomCase(name: PhantomCase.name(index: index), images: images,
                                  labels: LabelMap(shape: grid.shape, geometry: geometry, voxels: labels),
                                  tumourKinds: gliomas.map(\.kind.rawValue))
        return (phantom, tissue)
    }
}
