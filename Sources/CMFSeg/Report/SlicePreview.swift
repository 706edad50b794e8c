/// Slices of a case as pictures: T1, T1ce, T2, FLAIR side by side, then FLAIR with label
/// maps blended in (NCR/NET red, edema green, enhancing tumour yellow), each panel captioned.
///
/// Orientation follows the radiological convention from the geometry's affine, each
/// displayed axis starting at its world-positive end: axial and coronal panels show the
/// patient's right on the left, sagittal panels anterior on the left; anterior is at the top
/// of axial panels, superior at the top of coronal and sagittal ones. One pixel per voxel
/// (times the zoom). Each contrast is windowed from 0 to the 99.5th percentile of its
/// non-zero voxels in the whole volume.
public enum SlicePreview {
    /// BraTS label colours (RGB).
    public static let labelColours: [UInt8: (UInt8, UInt8, UInt8)] = [
        1: (230, 40, 40), 2: (40, 200, 60), 4: (250, 220, 30), 3: (250, 220, 30),
    ]

    /// The axial slice with the most labelled voxels; the middle slice of `shape` without
    /// labels (or labels on another grid, which `render` then refuses).
    public static func defaultSlice(labels: LabelMap?, shape: Shape3) -> Int {
        guard let labels, labels.shape == shape, labels.voxels.count == shape.count else { return shape.nz / 2 }
        var best = shape.nz / 2, bestCount = 0
        let plane = shape.nx * shape.ny
        for z in 0..<shape.nz {
            var c = 0
            for i in (z * plane)..<((z + 1) * plane) where labels.voxels[i] != 0 { c += 1 }
            if c > bestCount { bestCount = c; best = z }
        }
        return best
    }

    /// Renders the five panels of axial slice `z`.
    /// - Parameters:
    ///   - images: the four contrasts on one grid (all four required).
    ///   - labels: optional label map on the same grid.
    ///   - zoom: integer pixel magnification (1–8), for coarse grids.
    ///   - labelsTitle: the caption of the labelled panel (e.g. reference vs prediction).
    /// - Throws: `CMFError.invalidArgument` for a missing contrast, a slice out of range or
    ///   a bad zoom; `CMFError.shape` when the volumes' grids differ.
    public static func render(images: [Modality: ImageVolume], labels: LabelMap?, slice z: Int,
                              zoom: Int = 1, labelsTitle: String = "FLAIR+SEG") throws -> RasterImage {
        try render(images: images, overlays: [(labelsTitle, labels)], plane: .axial, slice: z, zoom: zoom)
    }

    /// Renders slice `index` of `plane`: the four contrasts, then one FLAIR panel per overlay
    /// with its labels blended in (a nil label map draws plain FLAIR), e.g. a reference
    /// beside a segmentation.
    /// - Parameters:
    ///   - images: the four contrasts on one grid (all four required).
    ///   - overlays: captions and label maps on the same grid.
    ///   - plane: which plane `index` counts along (axial: z, coronal: y, sagittal: x).
    ///   - zoom: integer pixel magnification (1–8), for coarse grids.
    /// - Throws: as ``render(images:labels:slice:zoom:labelsTitle:)``.
    public static func render(images: [Modality: ImageVolume], overlays: [(title: String, labels: LabelMap?)],
                              plane: SlicePlane, slice index: Int, zoom: Int = 1) throws -> RasterImage {
        var vols: [ImageVolume] = []
        for m in Modality.allCases {
            guard let v = images[m] else { throw CMFError.invalidArgument("preview: the \(m.rawValue) image is missing") }
            vols.append(v)
        }
        for case let (_, labels?) in overlays where labels.shape != vols[0].shape {
            throw CMFError.shape("preview: labels grid \(labels.shape) differs from the images' \(vols[0].shape)")
        }
        let panels = vols.map { Panel(volume: $0, window: (0, percentile($0.voxels, 0.995))) }
        let labelled = overlays.map { Panel(volume: vols[3], window: panels[3].window, labels: $0.labels) }
        return try compose(panels + labelled, titles: ["T1", "T1CE", "T2", "FLAIR"] + overlays.map(\.title),
                           plane: plane, slice: index, zoom: zoom)
    }

    /// Slice `z` of each volume as a captioned grey panel, side by side, each windowed from
    /// the 0.5th to the 99.5th percentile of its non-zero voxels (so images in z-score units,
    /// negative values included, show as well as raw ones).
    /// - Throws: as ``render(images:labels:slice:zoom:)``; `invalidArgument` for no panels.
    public static func renderPanels(_ panels: [(title: String, volume: ImageVolume)], slice z: Int,
                                    zoom: Int = 1) throws -> RasterImage {
        guard !panels.isEmpty else { throw CMFError.invalidArgument("preview: no images to draw") }
        let specs = panels.map { Panel(volume: $0.volume, window: (percentile($0.volume.voxels, 0.005), percentile($0.volume.voxels, 0.995))) }
        return try compose(specs, titles: panels.map(\.title), plane: .axial, slice: z, zoom: zoom)
    }

    /// One panel: a volume, its grey window, and labels to blend in.
    private struct Panel {
        var volume: ImageVolume
        var window: (lo: Float, hi: Float)
        var labels: LabelMap? = nil
    }

    /// Draws the panels side by side.
    /// - Throws: `CMFError.shape` when the volumes' grids differ; `invalidArgument` for a
    ///   slice out of range or a zoom outside 1–8.
    private static func compose(_ panels: [Panel], titles: [String], plane: SlicePlane, slice index: Int,
                                zoom: Int) throws -> RasterImage {
        let shape = panels[0].volume.shape
        for p in panels.dropFirst() where p.volume.shape != shape {
            throw CMFError.shape("preview: images have different grids (\(shape) and \(p.volume.shape))")
        }
        let dims = [shape.nx, shape.ny, shape.nz]
        let (across, down, normal) = plane.axes
        guard (0..<dims[normal]).contains(index) else {
            throw CMFError.invalidArgument("preview: \(plane.rawValue) slice \(index) is outside 0…\(dims[normal] - 1)")
        }
        guard (1...8).contains(zoom) else { throw CMFError.invalidArgument("preview: zoom \(zoom) must be 1–8") }
        let a = panels[0].volume.geometry.affine
        // each displayed axis starts at its world-positive end (right, anterior, superior)
        let flipAcross = a[5 * across] > 0, flipDown = a[5 * down] > 0
        let pw = dims[across] * zoom, ph = dims[down] * zoom
        let gap = 4, caption = 14
        var img = try RasterImage(width: panels.count * pw + (panels.count - 1) * gap, height: ph + caption)
        var voxel = SIMD3<Int>(repeating: 0)
        voxel[normal] = index
        for (p, panel) in panels.enumerated() {
            let v = panel.volume, (lo, hi) = panel.window
            let ox = p * (pw + gap)
            for py in 0..<ph {
                voxel[down] = flipDown ? dims[down] - 1 - py / zoom : py / zoom
                for px in 0..<pw {
                    voxel[across] = flipAcross ? dims[across] - 1 - px / zoom : px / zoom
                    let i = shape.index(voxel.x, voxel.y, voxel.z)
                    let g = hi > lo ? UInt8(max(0, min(255, ((v.voxels[i] - lo) / (hi - lo) * 255).rounded()))) : 0
                    var c = (g, g, g)
                    if let labels = panel.labels, let lc = labelColours[labels.voxels[i]] {
                        c = (blend(g, lc.0), blend(g, lc.1), blend(g, lc.2))
                    }
                    img.setPixel(x: ox + px, y: caption + py, c)
                }
            }
            BitmapFont.draw(titles[p], x: ox + 3, y: 3, colour: (255, 255, 255), into: &img)
        }
        return img
    }

    @inline(__always) static func blend(_ g: UInt8, _ c: UInt8) -> UInt8 {
        UInt8((Int(g) * 2 + Int(c) * 3) / 5)
    }

    /// The q-quantile of the non-zero values (from at most ~100 000 evenly strided samples).
    static func percentile(_ values: [Float], _ q: Double) -> Float {
        var nz = 0
        for v in values where v != 0 && v.isFinite { nz += 1 }
        guard nz > 0 else { return 0 }
        let step = max(1, nz / 100_000)
        var sample: [Float] = []
        sample.reserveCapacity(nz / step + 1)
        var k = 0
        for v in values where v != 0 && v.isFinite {
            if k % step == 0 { sample.append(v) }
            k += 1
        }
        sample.sort()
        return sample[min(sample.count - 1, Int(Double(sample.count - 1) * q))]
    }
}

/// The plane a slice lies in, named as in radiology.
public enum SlicePlane: String, CaseIterable, Sendable {
    /// Perpendicular to z (NIfTI k): seen from the feet.
    case axial
    /// Perpendicular to y (j): seen from the front.
    case coronal
    /// Perpendicular to x (i): seen from the patient's left.
    case sagittal

    /// Voxel axes (0 x, 1 y, 2 z) across and down a panel, and the one the slice index counts.
    var axes: (across: Int, down: Int, normal: Int) {
        switch self {
        case .axial: return (0, 1, 2)
        case .coronal: return (0, 2, 1)
        case .sagittal: return (1, 2, 0)
        }
    }
}
