import CCMFKernels
import XCTest

final class ThreadCountTests: XCTestCase {
    func testExplicitThreadCountIsKept() {
        XCTAssertEqual(cmfk_thread_count(3), 3)
        XCTAssertGreaterThanOrEqual(cmfk_thread_count(0), 1)
    }
}
