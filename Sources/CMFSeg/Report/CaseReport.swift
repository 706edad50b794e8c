/// A one-page visual report of a segmented case (``html()``): axial, coronal and sagittal
/// slices through the tumour (the four contrasts, then FLAIR with the reference and the
/// segmentation blended in, as ``SlicePreview`` draws them), the BraTS scores against the
/// reference, the volumes of every label and region, the provenance of the model and where
/// the time went.
///
/// Making one does all the work: checks, statistics, scoring (``BraTSEvaluator``) and
/// drawing. The slices go through the centre of mass of the whole tumour of the reference,
/// else of the segmentation, else (no tumour in either) through the middle of the grid.
public struct CaseReport: Sendable {
    /// The model that made a segmentation, as its weights describe it.
    public struct Model: Sendable, Equatable {
        /// The weight files.
        public var files: [String]
        /// The network's architecture name (e.g. "cmff-m2g").
        public var architecture: String
        /// The weights' metadata: training command, seeds, steps, date, validation Dice…
        /// (`Sources/CMFSeg/Weights/README.md` lists the keys).
        public var metadata: [String: String]
        /// What the loader inferred or assumed.
        public var notes: [String]

        public init(_ model: SegmentationModel, files: [String]) {
            self.files = files
            self.architecture = model.architecture.rawValue
            self.metadata = model.network.describedMetadata()
            self.notes = model.notes
        }
    }

    /// What a report is made of.
    public struct Input: Sendable {
        /// The case's name (the page's title).
        public var name: String
        /// T1, T1ce, T2 and FLAIR, all four, on one grid.
        public var images: [Modality: ImageVolume]
        /// The label map reported on, on the images' grid.
        public var segmentation: LabelMap
        /// The reference labels to score it against, on the same grid.
        public var reference: LabelMap?
        /// Where the data came from, by role (`t1`, `t1ce`, `t2`, `flair`, `segmentation`,
        /// `reference`): listed on the page and named in messages.
        public var files: [String: String] = [:]
        /// The segmentation file's own description (`cmfseg segment` writes what made it).
        public var segmentationDescription = ""
        /// The model that made the segmentation, when known.
        public var model: Model? = nil
        /// The segmentation's timings, when known.
        public var segmentationTimings: SegmentationTimings? = nil
        /// Labels and scoring options.
        public var options = EvaluationOptions()
        /// Seconds spent reading the inputs (shown with the report's timings).
        public var readSeconds = 0.0

        public init(name: String, images: [Modality: ImageVolume], segmentation: LabelMap, reference: LabelMap? = nil) {
            self.name = name
            self.images = images
            self.segmentation = segmentation
            self.reference = reference
        }

        /// The file behind `role`, else the role itself (for messages).
        func name(of role: String) -> String { files[role] ?? role }
    }

    /// What the slices go through.
    public enum CentreSource: String, Sendable {
        /// The centre of mass of the reference's whole tumour.
        case reference
        /// The centre of mass of the segmentation's whole tumour.
        case segmentation
        /// The middle of the grid: neither map has tumour.
        case grid
    }

    /// One drawn slice: the PNG file's bytes and its size in pixels.
    public struct Slice: Sendable {
        public var plane: SlicePlane
        public var index: Int
        public var png: [UInt8]
        public var width: Int, height: Int
    }

    public let input: Input
    public let segmentationStatistics: LabelStatistics
    public let referenceStatistics: LabelStatistics?
    /// The BraTS scores of the segmentation against the reference; nil without a reference.
    public let scores: EvaluationResult?
    /// The voxel (x, y, z) every slice goes through, and why there.
    public let centre: SIMD3<Int>
    public let centreSource: CentreSource
    /// Axial, coronal, sagittal.
    public let slices: [Slice]
    /// Pixels per voxel in the slices: small grids are magnified to about 200 pixels.
    public let zoom: Int
    /// Seconds spent measuring and scoring (volumes, centre, the evaluator), and drawing.
    public let scoreSeconds: Double, drawSeconds: Double

    /// Checks the input, scores and draws.
    /// - Throws: `CMFError.invalidArgument` for a missing contrast or a label outside
    ///   `input.options.labels` (naming the file, the voxel and the value); `.shape` when the
    ///   images, segmentation and reference are not on one grid; the evaluator's errors.
    public init(_ input: Input) throws {
        var grid: [(name: String, shape: Shape3, geometry: Geometry)] = []
        for m in Modality.allCases {
            guard let v = input.images[m] else {
                throw CMFError.invalidArgument("report on \(input.name): the \(m.rawValue) image is missing")
            }
            grid.append((input.name(of: m.rawValue), v.shape, v.geometry))
        }
        grid.append((input.name(of: "segmentation"), input.segmentation.shape, input.segmentation.geometry))
        if let r = input.reference { grid.append((input.name(of: "reference"), r.shape, r.geometry)) }
        try Nifti.requireSameGrid(grid)

        let clock = ContinuousClock()
        var start = clock.now
        let labels = input.options.labels
        segmentationStatistics = try LabelStatistics(input.segmentation, convention: labels, name: input.name(of: "segmentation"))
        referenceStatistics = try input.reference.map {
            try LabelStatistics($0, convention: labels, name: input.name(of: "reference"))
        }
        scores = try input.reference.map {
            try BraTSEvaluator(options: input.options).evaluate(
                reference: $0, prediction: input.segmentation,
                referenceName: input.name(of: "reference"), predictionName: input.name(of: "segmentation"))
        }
        scoreSeconds = Self.seconds(clock.now - start)

        start = clock.now
        let shape = input.segmentation.shape
        let last = SIMD3(shape.nx - 1, shape.ny - 1, shape.nz - 1)
        let through: SIMD3<Int>
        if let c = referenceStatistics?.tumourCentre {
            (through, centreSource) = (Self.nearestVoxel(c, last), .reference)
        } else if let c = segmentationStatistics.tumourCentre {
            (through, centreSource) = (Self.nearestVoxel(c, last), .segmentation)
        } else {
            (through, centreSource) = (last / 2, .grid)
        }
        let magnify = max(1, min(8, 200 / max(shape.nx, shape.ny, shape.nz)))
        var overlays: [(title: String, labels: LabelMap?)] = [("FLAIR+SEGMENTATION", input.segmentation)]
        if let r = input.reference { overlays.insert(("FLAIR+REFERENCE", r), at: 0) }
        slices = try SlicePlane.allCases.map { plane in
            let index = through[plane.axes.normal]
            let image = try SlicePreview.render(images: input.images, overlays: overlays, plane: plane,
                                                slice: index, zoom: magnify)
            return Slice(plane: plane, index: index, png: try PNGWriter.encode(image),
                         width: image.width, height: image.height)
        }
        centre = through
        zoom = magnify
        drawSeconds = Self.seconds(clock.now - start)
        self.input = input
    }

    static func nearestVoxel(_ c: SIMD3<Double>, _ last: SIMD3<Int>) -> SIMD3<Int> {
        let r = c.rounded(.toNearestOrAwayFromZero)
        return pointwiseMin(pointwiseMax(SIMD3(Int(r.x), Int(r.y), Int(r.z)), .zero), last)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
