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
    /// - Throws: `CMFError.invalidArgument` for a missing contrast, a slice out of range or
    ///   a bad zoom; `CMFError.shape` when the volumes' grids differ.
    public static func render(images: [Modality: ImageVolume], labels: LabelMap?, slice z: Int,
                              zoom: Int = 1) throws -> RasterImage {
        var vols: [ImageVolume] = []
        for m in Modality.allCases {
            guard let v = images[m] else { throw CMFError.invalidArgument("preview: the \(m.rawValue) image is missing") }
            vols.append(v)
        }
        let shape = vols[0].shape
        for v in vols.dropFirst() where v.shape != shape {
            throw CMFError.shape("preview: images have different grids (\(shape) and \(v.shape))")
        }
        if let labels, labels.shape != shape {
            throw CMFError.shape("preview: labels grid \(labels.shape) differs from the images' \(shape)")
        }
        guard (0..<shape.nz).contains(z) else {
            throw CMFError.invalidArgument("preview: slice \(z) is outside 0…\(shape.nz - 1)")
        }
        guard (1...8).contains(zoom) else { throw CMFError.invalidArgument("preview: zoom \(zoom) must be 1–8") }
        let a = vols[0].geometry.affine
        // radiological display: columns run from world +x (right) to −x, rows from +y (anterior) down
        let flipX = a[0] > 0, flipY = a[5] > 0
        let pw = shape.nx * zoom, ph = shape.ny * zoom
        let gap = 4, caption = 14
        var img = try RasterImage(width: 5 * pw + 4 * gap, height: ph + caption)
        let titles = ["T1", "T1CE", "T2", "FLAIR", "FLAIR+SEG"]
        for p in 0..<5 {
            let v = vols[min(p, 3)]
            let hi = percentile(v.voxels, 0.995)
            let ox = p * (pw + gap)
            for py in 0..<ph {
                for px in 0..<pw {
                    let x = flipX ? shape.nx - 1 - px / zoom : px / zoom
                    let y = flipY ? shape.ny - 1 - py / zoom : py / zoom
                    let i = shape.index(x, y, z)
                    let g = hi > 0 ? UInt8(max(0, min(255, (v.voxels[i] / hi * 255).rounded()))) : 0
                    var c = (g, g, g)
                    if p == 4, let labels, let lc = labelColours[labels.voxels[i]] {
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
