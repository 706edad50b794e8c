import CCMFKernels
import XCTest

/// The fast converters against their naive twins, every datatype, both byte orders,
/// with and without scaling.
final class ConvertTests: XCTestCase {
    let types: [Int32] = [2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280]

    func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var s = seed
        return (0..<n).map { _ in s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: s >> 33) }
    }

    func testFloatConversionMatchesNaive() {
        let n = 1000
        for dt in types {
            let size = Int(cmfk_datatype_size(dt))
            XCTAssertGreaterThan(size, 0)
            var src = randomBytes(n * size, seed: UInt64(dt))
            if dt == 16 || dt == 64 {  // keep floats finite so NaN != NaN does not confuse the comparison
                for i in 0..<n { src.withUnsafeMutableBytes { p in
                    if dt == 16 { p.storeBytes(of: Float(i) * 0.37 - 100, toByteOffset: i * 4, as: Float.self) }
                    else { p.storeBytes(of: Double(i) * 1.37 - 500, toByteOffset: i * 8, as: Double.self) } } }
            }
            for swap: Int32 in [0, 1] {
                for (slope, inter) in [(1.0, 0.0), (0.5, -3.0)] {
                    var fast = [Float](repeating: 0, count: n), naive = fast
                    XCTAssertEqual(cmfk_convert_f32(src, dt, Int64(n), swap, slope, inter, &fast), 0)
                    XCTAssertEqual(cmfk_convert_f32_naive(src, dt, Int64(n), swap, slope, inter, &naive), 0)
                    XCTAssertEqual(fast, naive, "dt \(dt) swap \(swap) slope \(slope)")
                }
            }
        }
        var out = [Float](repeating: 0, count: 1)
        XCTAssertEqual(cmfk_convert_f32([0, 0, 0, 0, 0, 0, 0, 0], 32, 1, 0, 1, 0, &out), -2)
    }

    func testLabelConversionMatchesNaive() {
        let n = 500
        for dt in types {
            let size = Int(cmfk_datatype_size(dt))
            // Labels 0..255 stored in dt, then one bad value at a known place.
            var values = (0..<n).map { Double(($0 * 7) % 256) }
            for bad in [-1, 0, 499] {
                var v = values
                if bad >= 0 { v[bad] = dt == 2 ? 255 : (dt == 16 || dt == 64 ? 2.5 : 256) }
                if dt == 256 { v = v.map { $0 > 127 ? 127 : $0 }; if bad >= 0 { v[bad] = -1 } }
                var src = [UInt8](repeating: 0, count: n * size)
                src.withUnsafeMutableBytes { p in
                    for (i, x) in v.enumerated() {
                        switch dt {
                        case 2: p.storeBytes(of: UInt8(x), toByteOffset: i, as: UInt8.self)
                        case 256: p.storeBytes(of: Int8(x), toByteOffset: i, as: Int8.self)
                        case 4: p.storeBytes(of: Int16(x), toByteOffset: i * 2, as: Int16.self)
                        case 512: p.storeBytes(of: UInt16(x), toByteOffset: i * 2, as: UInt16.self)
                        case 8: p.storeBytes(of: Int32(x), toByteOffset: i * 4, as: Int32.self)
                        case 768: p.storeBytes(of: UInt32(x), toByteOffset: i * 4, as: UInt32.self)
                        case 1024: p.storeBytes(of: Int64(x), toByteOffset: i * 8, as: Int64.self)
                        case 1280: p.storeBytes(of: UInt64(x), toByteOffset: i * 8, as: UInt64.self)
                        case 16: p.storeBytes(of: Float(x), toByteOffset: i * 4, as: Float.self)
                        default: p.storeBytes(of: x, toByteOffset: i * 8, as: Double.self)
                        }
                    }
                }
                var fast = [UInt8](repeating: 0, count: n), naive = fast
                let rf = cmfk_convert_u8(src, dt, Int64(n), 0, 1, 0, &fast)
                let rn = cmfk_convert_u8_naive(src, dt, Int64(n), 0, 1, 0, &naive)
                XCTAssertEqual(rf, rn, "dt \(dt) bad \(bad)")
                if dt != 2 { XCTAssertEqual(rf, Int64(bad), "dt \(dt)") }
                if rf < 0 { XCTAssertEqual(fast, naive); XCTAssertEqual(fast.map(Double.init), v) }
                // Swapped bytes of the same data through both paths.
                if size > 1 {
                    var swapped = src
                    for i in 0..<n { swapped[i * size..<(i + 1) * size].reverse() }
                    var a = [UInt8](repeating: 0, count: n), b = a
                    XCTAssertEqual(cmfk_convert_u8(swapped, dt, Int64(n), 1, 1, 0, &a), rn)
                    XCTAssertEqual(cmfk_convert_u8_naive(swapped, dt, Int64(n), 1, 1, 0, &b), rn)
                    if rn < 0 { XCTAssertEqual(a, naive) }
                }
            }
            values.removeAll()
        }
    }

    func testMinMaxSkipsNonFinite() {
        var lo: Float = 0, hi: Float = 0, bad: Int64 = 0
        cmfk_minmax_f32([3, .nan, -2, .infinity, 7], 5, &lo, &hi, &bad)
        XCTAssertEqual([lo, hi], [-2, 7]); XCTAssertEqual(bad, 2)
        cmfk_minmax_f32([.nan], 1, &lo, &hi, &bad)
        XCTAssertGreaterThan(lo, hi); XCTAssertEqual(bad, 1)
    }
}
