/// One axial slice of a case as a picture: T1, T1ce, T2, FLAIR side by side, then FLAIR
/// with the labels blended in (NCR/NET red, edema green, enhancing tumour yellow), each
/// panel captioned.
///
/// Orientation follows the radiological convention from the geometry's affine: patient's
/// right on the left of the panel, anterior at the top. Each contrast is windowed from 0 to
/// the 99.5th percentile of its non-zero voxels in the whole volume.
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

    /// Renders the five panels of slice `z`.
    /// - Parameters:
    ///   - images: the four contrasts on one grid (all four required).
    ///   - labels: optional label map on the same grid.
    ///   - zoom: integer pixel magnification (1–8), for coarse grids.
    ///   - labelsTitle: the caption of the labelled panel (e.g. reference vs prediction).
    /// - Throws: `CMFError.invalidArgument` for a missing contrast, a slice out of range or
    ///   a bad zoom; `CMFError.shape` when the volumes' grids differ.
    public static func render(images: [Modality: ImageVolume], labels: LabelMap?, slice z: Int,
                              zoom: Int = 1, labelsTitle: String = "FLAIR+SEG") throws -> RasterImage {
        var vols: [ImageVolume] = []
        for m in Modality.allCases {
            guard let v = images[m] else { throw CMFError.invalidArgument("preview: the \(m.rawValue) image is missing") }
            vols.append(v)
        }
        if let labels, labels.shape != vols[0].shape {
            throw CMFError.shape("preview: labels grid \(labels.shape) differs from the images' \(vols[0].shape)")
        }
        let panels = vols.map { Panel(volume: $0, window: (0, percentile($0.voxels, 0.995))) }
        return try compose(panels + [Panel(volume: vols[3], window: panels[3].window, labels: labels)],
                           titles: ["T1", "T1CE", "T2", "FLAIR", labelsTitle], slice: z, zoom: zoom)
    }

    /// Slice `z` of each volume as a captioned grey panel, side by side, each windowed from
    /// the 0.5th to the 99.5th percentile of its non-zero voxels (so images in z-score units,
    /// negative values included, show as well as raw ones).
    /// - Throws: as ``render(images:labels:slice:zoom:)``; `invalidArgument` for no panels.
    public static func renderPanels(_ panels: [(title: String, volume: ImageVolume)], slice z: Int,
                                    zoom: Int = 1) throws -> RasterImage {
        guard !panels.isEmpty else { throw CMFError.invalidArgument("preview: no images to draw") }
        let specs = panels.map { Panel(volume: $0.volume, window: (percentile($0.volume.voxels, 0.005), percentile($0.volume.voxels, 0.995))) }
        return try compose(specs, titles: panels.map(\.title), slice: z, zoom: zoom)
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
    private static func compose(_ panels: [Panel], titles: [String], slice z: Int, zoom: Int) throws -> RasterImage {
        let shape = panels[0].volume.shape
        for p in panels.dropFirst() where p.volume.shape != shape {
            throw CMFError.shape("preview: images have different grids (\(shape) and \(p.volume.shape))")
        }
        guard (0..<shape.nz).contains(z) else {
            throw CMFError.invalidArgument("preview: slice \(z) is outside 0…\(shape.nz - 1)")
        }
        guard (1...8).contains(zoom) else { throw CMFError.invalidArgument("preview: zoom \(zoom) must be 1–8") }
        let a = panels[0].volume.geometry.affine
        // radiological display: columns run from world +x (right) to −x, rows from +y (anterior) down
        let flipX = a[0] > 0, flipY = a[5] > 0
        let pw = shape.nx * zoom, ph = shape.ny * zoom
        let gap = 4, caption = 14
        var img = try RasterImage(width: panels.count * pw + (panels.count - 1) * gap, height: ph + caption)
        for (p, panel) in panels.enumerated() {
            let v = panel.volume, (lo, hi) = panel.window
            let ox = p * (pw + gap)
            for py in 0..<ph {
                for px in 0..<pw {
                    let x = flipX ? shape.nx - 1 - px / zoom : px / zoom
                    let y = flipY ? shape.ny - 1 - py / zoom : py / zoom
                    let i = shape.index(x, y, z)
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
