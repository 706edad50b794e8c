@testable import CMFSeg
import CDeflate
import Foundation
import TestSupport
import XCTest

/// The PNG encoder against an independent decoder written here: chunk walk, CRC-32 computed
/// bit by bit (not zlib's table), zlib inflate, and PNG's five row filters undone.
final class PNGWriterTests: XCTestCase {
    struct Decoded { var width: Int; var height: Int; var colourType: UInt8; var pixels: [UInt8]; var filters: Set<UInt8> }

    static func crc32Bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    static func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    static func decode(_ png: [UInt8]) throws -> Decoded {
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var o = 8, idat: [UInt8] = [], width = 0, height = 0, colour: UInt8 = 0, types: [String] = []
        while o < png.count {
            let len = Int(be32(png, o))
            let type = String(decoding: png[(o + 4)..<(o + 8)], as: UTF8.self)
            types.append(type)
            let data = Array(png[(o + 8)..<(o + 8 + len)])
            XCTAssertEqual(be32(png, o + 8 + len), crc32Bitwise(png[(o + 4)..<(o + 8 + len)]), "CRC of \(type)")
            if type == "IHDR" {
                width = Int(be32(data, 0)); height = Int(be32(data, 4)); colour = data[9]
                XCTAssertEqual(data[8], 8); XCTAssertEqual(Array(data[10...12]), [0, 0, 0])
            }
            if type == "IDAT" { idat += data }
            o += 12 + len
        }
        XCTAssertEqual(types.first, "IHDR"); XCTAssertEqual(types.last, "IEND")
        let bpp = colour == 2 ? 3 : 1, stride = width * bpp
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var rawLen = uLongf(raw.count)
        XCTAssertEqual(uncompress(&raw, &rawLen, idat, uLong(idat.count)), Z_OK)
        XCTAssertEqual(Int(rawLen), raw.count)
        var px = [UInt8](repeating: 0, count: stride * height)
        var filters: Set<UInt8> = []
        for y in 0..<height {
            let f = raw[y * (stride + 1)]
            filters.insert(f)
            for x in 0..<stride {
                let v = raw[y * (stride + 1) + 1 + x]
                let a = x >= bpp ? Int(px[y * stride + x - bpp]) : 0
                let b = y > 0 ? Int(px[(y - 1) * stride + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(px[(y - 1) * stride + x - bpp]) : 0
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = b
                case 3: pred = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: XCTFail("filter \(f)"); pred = 0
                }
                px[y * stride + x] = UInt8((Int(v) + pred) & 0xFF)
            }
        }
        return Decoded(width: width, height: height, colourType: colour, pixels: px, filters: filters)
    }

    func pattern(_ w: Int, _ h: Int, _ ch: Int) -> [UInt8] {
        var s: UInt32 = 12345
        return (0..<(w * h * ch)).map { i in
            let x = (i / ch) % w, y = i / (ch * w)
            s = s &* 1_103_515_245 &+ 12345
            // smooth gradients (Sub/Up/Paeth win), noise patches (None wins), flat areas
            if y < h / 3 { return UInt8((x * 3 + y * 5 + i % ch * 40) & 0xFF) }
            if y < 2 * h / 3 { return UInt8((s >> 16) & 0xFF) }
            return x < w / 2 ? 200 : UInt8((x + y) / 2 & 0xFF)
        }
    }

    func testRGBRoundTripThroughIndependentDecoder() throws {
        let img = try RasterImage(width: 37, height: 29, channels: 3, pixels: pattern(37, 29, 3))
        let d = try Self.decode(try PNGWriter.encode(img))
        XCTAssertEqual(d.width, 37); XCTAssertEqual(d.height, 29); XCTAssertEqual(d.colourType, 2)
        XCTAssertEqual(d.pixels, img.pixels)
    }

    func testGreyRoundTripAndAllFiltersUsed() throws {
        let img = try RasterImage(width: 64, height: 48, channels: 1, pixels: pattern(64, 48, 1))
        let png = try PNGWriter.encode(img)
        let d = try Self.decode(png)
        XCTAssertEqual(d.colourType, 0)
        XCTAssertEqual(d.pixels, img.pixels)
        XCTAssertGreaterThanOrEqual(d.filters.count, 3, "filters used: \(d.filters.sorted())")
    }

    func testOnePixelAndInvalidImages() throws {
        let one = try RasterImage(width: 1, height: 1, channels: 3, pixels: [1, 2, 3])
        XCTAssertEqual(try Self.decode(try PNGWriter.encode(one)).pixels, [1, 2, 3])
        XCTAssertThrowsError(try RasterImage(width: 0, height: 1, channels: 3, pixels: []))
        XCTAssertThrowsError(try RasterImage(width: 2, height: 2, channels: 2, pixels: [UInt8](repeating: 0, count: 8)))
        XCTAssertThrowsError(try RasterImage(width: 2, height: 2, channels: 3, pixels: [1]))
    }

    func testWriteIsAtomicAndReportsUnwritablePaths() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = try RasterImage(width: 4, height: 3)
        let url = dir.appendingPathComponent("a.png")
        try PNGWriter.write(img, to: url)
        XCTAssertEqual(try Self.decode(Array(try Data(contentsOf: url))).pixels, img.pixels)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.png"])
        XCTAssertThrowsError(try PNGWriter.write(img, to: dir.appendingPathComponent("missing/b.png"))) { e in
            XCTAssertTrue("\(e)".contains("missing/b.png"), "\(e)")
        }
        XCTAssertThrowsError(try PNGWriter.write(img, to: dir))  // a directory
    }

    func testSlicePreviewLayoutAndColours() throws {
        let shape = Shape3(20, 16, 6)
        let g = PhantomGrid(shape: shape, spacing: 1).geometry  // BraTS-like: x and y flipped in world
        var images: [Modality: ImageVolume] = [:]
        for (k, m) in Modality.allCases.enumerated() {
            var v = ImageVolume(shape: shape, geometry: g, repeating: 0)
            for z in 0..<6 { for y in 0..<16 { for x in 0..<20 { v[x, y, z] = Float(x + 1 + k) } } }
            images[m] = v
        }
        var labels = LabelMap(shape: shape, geometry: g, repeating: 0)
        labels[2, 3, 4] = 4
        labels[5, 5, 4] = 1
        XCTAssertEqual(SlicePreview.defaultSlice(labels: labels, shape: shape), 4)
        let img = try SlicePreview.render(images: images, labels: labels, slice: 4, zoom: 2)
        XCTAssertEqual(img.width, 5 * 40 + 16)
        XCTAssertEqual(img.height, 32 + 14)
        // BraTS affine (−x): voxel column x is shown left to right as stored; label 4 is yellowish
        func px(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            let i = (y * img.width + x) * 3
            return (img.pixels[i], img.pixels[i + 1], img.pixels[i + 2])
        }
        let p = px(4 * (40 + 4) + 2 * 2, 14 + 3 * 2)
        XCTAssertGreaterThan(p.0, p.2); XCTAssertGreaterThan(p.1, p.2)
        let q = px(4 * (40 + 4) + 5 * 2, 14 + 5 * 2)  // label 1: red
        XCTAssertGreaterThan(q.0, q.1)
        // grey ramp increases along x in the T1 panel
        XCTAssertLessThan(px(0, 30).0, px(38, 30).0)
        XCTAssertThrowsError(try SlicePreview.render(images: images, labels: labels, slice: 6))
        // labels on another grid: no slice search over them, and render refuses
        let other = LabelMap(shape: Shape3(4, 4, 4), geometry: g, repeating: 1)
        XCTAssertEqual(SlicePreview.defaultSlice(labels: other, shape: shape), 3)
        XCTAssertThrowsError(try SlicePreview.render(images: images, labels: other, slice: 0))
        images[.t2] = nil
        XCTAssertThrowsError(try SlicePreview.render(images: images, labels: labels, slice: 0))
    }

    func testPanelsWindowNegativeValuesAndStackRows() throws {
        // a z-scored ramp from −2 to 2: the window spans it, so the left edge is dark, not clipped
        let shape = Shape3(20, 16, 3)
        let g = PhantomGrid(shape: shape, spacing: 1).geometry
        var v = ImageVolume(shape: shape, geometry: g, repeating: 0)
        for z in 0..<3 { for y in 0..<16 { for x in 0..<20 { v[x, y, z] = Float(x) / 19 * 4 - 2 } } }
        let img = try SlicePreview.renderPanels([("A", v), ("B", v)], slice: 1)
        XCTAssertEqual(img.width, 2 * 20 + 4)
        let row = 14 + 8
        let grey = (0..<20).map { img.pixels[(row * img.width + $0) * 3] }
        XCTAssertEqual(grey.first, 0)
        XCTAssertEqual(grey.last, 255)
        XCTAssertEqual(grey, grey.sorted(), "a ramp draws as a ramp")
        XCTAssertGreaterThan(grey[8], 60)  // −0.3: visible, where a window from 0 would show black
        XCTAssertThrowsError(try SlicePreview.renderPanels([], slice: 0))
        XCTAssertThrowsError(try SlicePreview.renderPanels([("A", v), ("B", ImageVolume(shape: Shape3(4, 4, 4), geometry: g, repeating: 0))], slice: 0))
        let stacked = try RasterImage.stacked(img, above: img)
        XCTAssertEqual(stacked.height, 2 * img.height)
        XCTAssertEqual(Array(stacked.pixels[(img.height * img.width * 3)...]), img.pixels)
        XCTAssertThrowsError(try RasterImage.stacked(img, above: try RasterImage(width: 3, height: 3)))
    }
}
