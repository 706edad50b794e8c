@testable import CMFSeg
import XCTest

/// Slices in the three planes: sizes, where a voxel lands (radiological orientation from the
/// affine), overlays side by side.
final class SlicePlaneTests: XCTestCase {
    let shape = Shape3(6, 7, 8)
    let marked = (x: 0, y: 1, z: 6)

    func images(_ g: Geometry) -> [Modality: ImageVolume] {
        var images: [Modality: ImageVolume] = [:]
        for m in Modality.allCases { images[m] = ImageVolume(shape: shape, geometry: g, repeating: 50) }
        return images
    }

    /// The coloured pixels of panel `panel` (zoom 1) of a rendered slice.
    func colouredPixels(_ img: RasterImage, panel: Int, panelWidth: Int) -> [(x: Int, y: Int)] {
        var hits: [(x: Int, y: Int)] = []
        for y in 14..<img.height {
            for x in 0..<panelWidth {
                let i = (y * img.width + panel * (panelWidth + 4) + x) * 3
                if img.pixels[i] != img.pixels[i + 1] || img.pixels[i] != img.pixels[i + 2] { hits.append((x, y - 14)) }
            }
        }
        return hits
    }

    func testEachPlaneShowsTheVoxelWhereTheAffineSays() throws {
        // a RAS grid (positive diagonal): the first column is world +x (the patient's right),
        // +y (anterior) or +z (superior) starts each axis
        let g = Geometry(spacing: SIMD3(1, 1, 1))
        var labels = LabelMap(shape: shape, geometry: g, repeating: 0)
        labels[marked.x, marked.y, marked.z] = 4
        let expected: [SlicePlane: (index: Int, width: Int, height: Int, at: (x: Int, y: Int))] = [
            .axial: (marked.z, shape.nx, shape.ny, (shape.nx - 1 - marked.x, shape.ny - 1 - marked.y)),
            .coronal: (marked.y, shape.nx, shape.nz, (shape.nx - 1 - marked.x, shape.nz - 1 - marked.z)),
            .sagittal: (marked.x, shape.ny, shape.nz, (shape.ny - 1 - marked.y, shape.nz - 1 - marked.z)),
        ]
        for (plane, e) in expected {
            let img = try SlicePreview.render(images: images(g), overlays: [("REF", nil), ("SEG", labels)],
                                              plane: plane, slice: e.index)
            XCTAssertEqual(img.width, 6 * e.width + 5 * 4, "\(plane)")
            XCTAssertEqual(img.height, e.height + 14, "\(plane)")
            let hits = colouredPixels(img, panel: 5, panelWidth: e.width)
            XCTAssertEqual(hits.count, 1, "\(plane)")
            XCTAssertEqual(hits.first?.x, e.at.x, "\(plane)")
            XCTAssertEqual(hits.first?.y, e.at.y, "\(plane)")
            XCTAssertTrue(colouredPixels(img, panel: 4, panelWidth: e.width).isEmpty, "no labels: plain FLAIR")
            XCTAssertThrowsError(try SlicePreview.render(images: images(g), overlays: [("SEG", labels)],
                                                         plane: plane, slice: [shape.nx, shape.ny, shape.nz][plane.axes.normal]))
        }
    }

    func testAnLPSGridIsNotFlippedAcross() throws {
        // world x falls as voxel x grows: voxel column 0 already is the patient's right
        var g = Geometry(spacing: SIMD3(1, 1, 1))
        g.qform[0] = -1
        var labels = LabelMap(shape: shape, geometry: g, repeating: 0)
        labels[marked.x, marked.y, marked.z] = 1
        let img = try SlicePreview.render(images: images(g), overlays: [("SEG", labels)], plane: .coronal, slice: marked.y)
        let hits = colouredPixels(img, panel: 4, panelWidth: shape.nx)
        XCTAssertEqual(hits.map(\.x), [marked.x])
        XCTAssertEqual(hits.map(\.y), [shape.nz - 1 - marked.z])
    }
}
