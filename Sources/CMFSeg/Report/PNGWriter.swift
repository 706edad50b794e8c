import CDeflate
import FoundationEssentials

/// An 8-bit image in memory: `channels` = 1 (grey) or 3 (RGB), rows top to bottom,
/// `pixels.count == width * height * channels`, interleaved.
public struct RasterImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    /// - Throws: `CMFError.invalidArgument` for sizes ≤ 0 or > 16384, a channel count other
    ///   than 1 or 3, or a pixel count that does not match.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard (1...16384).contains(width), (1...16384).contains(height) else {
            throw CMFError.invalidArgument("image size \(width)×\(height) must be 1–16384 per side")
        }
        guard channels == 1 || channels == 3 else {
            throw CMFError.invalidArgument("image channels \(channels) must be 1 (grey) or 3 (RGB)")
        }
        guard pixels.count == width * height * channels else {
            throw CMFError.invalidArgument("image \(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        }
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// A black RGB image.
    public init(width: Int, height: Int) throws {
        try self.init(width: width, height: height, channels: 3,
                      pixels: [UInt8](repeating: 0, count: max(0, width * height * 3)))
    }

    /// `top` above `bottom` (e.g. a reference row above a prediction row).
    /// - Throws: `CMFError.invalidArgument` unless both have the same width and channels.
    public static func stacked(_ top: RasterImage, above bottom: RasterImage) throws -> RasterImage {
        guard top.width == bottom.width, top.channels == bottom.channels else {
            throw CMFError.invalidArgument("cannot stack a \(top.width)-wide \(top.channels)-channel image above a \(bottom.width)-wide \(bottom.channels)-channel one")
        }
        return try RasterImage(width: top.width, height: top.height + bottom.height, channels: top.channels,
                               pixels: top.pixels + bottom.pixels)
    }
}

/// A minimal PNG encoder (8-bit greyscale or RGB, no interlace): per-row adaptive
/// filtering (None/Sub/Up/Average/Paeth, the one with the least sum of absolute values, as
/// libpng's heuristic), zlib `compress2` at level 9, CRC-32 from zlib (through the
/// `CDeflate` module, which links zlib for the NIfTI reader too).
public enum PNGWriter {
    /// The PNG file bytes of `image`.
    /// - Throws: `CMFError.internal` when zlib fails.
    public static func encode(_ image: RasterImage) throws -> [UInt8] {
        let bpp = image.channels, stride = image.width * bpp
        var raw = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        var candidates = [[UInt8]](repeating: [UInt8](repeating: 0, count: stride), count: 5)
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<image.height {
                let row = y * stride, prev = (y - 1) * stride
                for x in 0..<stride {
                    let cur = px[row + x]
                    let a: UInt8 = x >= bpp ? px[row + x - bpp] : 0
                    let b: UInt8 = y > 0 ? px[prev + x] : 0
                    let c: UInt8 = (x >= bpp && y > 0) ? px[prev + x - bpp] : 0
                    candidates[0][x] = cur
                    candidates[1][x] = cur &- a
                    candidates[2][x] = cur &- b
                    candidates[3][x] = cur &- UInt8((Int(a) + Int(b)) / 2)
                    candidates[4][x] = cur &- paeth(a, b, c)
                }
                var best = 0, bestCost = Int.max
                for f in 0..<5 {
                    var cost = 0
                    for v in candidates[f] { cost += v < 128 ? Int(v) : 256 - Int(v) }
                    if cost < bestCost { bestCost = cost; best = f }
                }
                let o = y * (stride + 1)
                raw[o] = UInt8(best)
                for x in 0..<stride { raw[o + 1 + x] = candidates[best][x] }
            }
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let rc = compress2(&compressed, &compressedSize, raw, uLong(raw.count), 9)
        guard rc == Z_OK else { throw CMFError.internal("PNG: zlib compress2 failed (code \(rc))") }
        compressed.removeSubrange(Int(compressedSize)...)

        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr += bigEndian(UInt32(image.width))
        ihdr += bigEndian(UInt32(image.height))
        ihdr += [8, image.channels == 3 ? 2 : 0, 0, 0, 0]  // depth, colour type, deflate, filter, no interlace
        appendChunk("IHDR", ihdr, to: &out)
        appendChunk("IDAT", compressed, to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// Writes `image` as a PNG file, atomically (temporary file beside `url`, then rename).
    /// - Throws: `CMFError.io` naming the file when it cannot be written.
    public static func write(_ image: RasterImage, to url: URL) throws {
        try AtomicFile.write([(path: url.path, content: .bytes(try encode(image)))])
    }

    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        var crc = crc32(0, typeBytes, uInt(typeBytes.count))
        if !data.isEmpty { crc = crc32(crc, data, uInt(data.count)) }
        out += bigEndian(UInt32(crc))
    }
}
