import CCMFKernels
@testable import CMFSeg
import XCTest

/// TensorStorage's value semantics and alignment, and the buffer pool behind it: reuse only
/// while a scope is open, freed neighbours merged, and nothing kept once the last scope closes.
final class TensorStorageTests: XCTestCase {
    private struct PoolStats: Equatable { var hits: Int64, misses: Int64, cached: Int64 }

    private func stats() -> PoolStats {
        var s = PoolStats(hits: 0, misses: 0, cached: 0)
        cmfk_pool_stats(&s.hits, &s.misses, &s.cached)
        return s
    }

    private func address(_ s: TensorStorage) -> Int {
        s.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
    }

    /// Floats in a pooled block: 2 MiB and 3 MiB.
    private let large = 1 << 19, larger = 3 << 18

    func testCopyOnWrite() {
        let a: TensorStorage = [1, 2, 3]
        var b = a
        b[0] = 9
        XCTAssertEqual(Array(a), [1, 2, 3])
        XCTAssertEqual(Array(b), [9, 2, 3])

        var c = a
        c.withUnsafeMutableBufferPointer { $0[2] = -1 }
        XCTAssertEqual(Array(a), [1, 2, 3])
        XCTAssertEqual(Array(c), [1, 2, -1])
        XCTAssertEqual(a, TensorStorage([1, 2, 3]))
        XCTAssertNotEqual(a, c)
    }

    func testInitialisersAndAlignment() {
        XCTAssertEqual(Array(TensorStorage(repeating: 0.5, count: 4)), [0.5, 0.5, 0.5, 0.5])
        XCTAssertEqual(Array(TensorStorage((0..<5).map(Float.init))), [0, 1, 2, 3, 4])
        XCTAssertEqual(Array(TensorStorage(repeating: 1, count: 0)), [])
        for count in [1, 1000, large + 3] {
            XCTAssertEqual(address(TensorStorage(repeating: 0, count: count)) % 64, 0, "\(count) floats")
        }
    }

    func testNothingIsKeptOutsideAScope() {
        let before = stats()
        _ = TensorStorage(repeating: 1, count: large)
        XCTAssertEqual(stats().cached, before.cached)
    }

    func testFreedRangesMergeAndServeAnySizeWhileAScopeIsOpen() throws {
        try XCTSkipUnless(cmfk_pool_uses_arena() != 0, "AddressSanitizer build: blocks come from malloc")
        TensorStorage.openPoolScope()
        var first: TensorStorage? = TensorStorage(repeating: 1, count: large)
        var second: TensorStorage? = TensorStorage(repeating: 1, count: large)
        XCTAssertEqual(address(second!), address(first!) + large * 4, "consecutive blocks are adjacent")
        let start = address(first!)
        first = nil
        second = nil
        let before = stats()
        XCTAssertGreaterThanOrEqual(before.cached, Int64(2 * large * 4))

        // Two freed neighbours merge: a block larger than either fits in them.
        let merged = TensorStorage(repeating: 2, count: larger)
        XCTAssertEqual(stats().hits, before.hits + 1)
        XCTAssertEqual(stats().misses, before.misses)
        XCTAssertEqual(address(merged), start)
        XCTAssertEqual(stats().cached, before.cached - Int64(larger * 4))
        XCTAssertTrue(merged.allSatisfy { $0 == 2 })

        TensorStorage.openPoolScope()   // nested: closing it keeps the freed ranges
        _ = TensorStorage(repeating: 4, count: large)
        TensorStorage.closePoolScope()
        XCTAssertGreaterThan(stats().cached, 0)
        TensorStorage.closePoolScope()
        XCTAssertEqual(stats().cached, 0)
    }

    func testStorageOutlivingItsScopeIsFreedNormally() {
        TensorStorage.openPoolScope()
        var kept: TensorStorage? = TensorStorage(repeating: 5, count: large)
        TensorStorage.closePoolScope()
        XCTAssertEqual(kept?[large - 1], 5)
        kept = nil
        XCTAssertEqual(stats().cached, 0)
    }
}
