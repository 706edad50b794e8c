import CMFSegABI
import XCTest

final class VersionTests: XCTestCase {
    func testVersionMatchesHeader() {
        let expected = "\(CMF_VERSION_MAJOR).\(CMF_VERSION_MINOR).\(CMF_VERSION_PATCH)"
        XCTAssertEqual(String(cString: cmf_version()), expected)
        XCTAssertEqual(cmf_abi_version(), UInt32(CMF_ABI_VERSION))
    }

    func testStatusStringsCoverEveryCode() {
        XCTAssertEqual(String(cString: cmf_status_string(CMF_OK)), "ok")
        XCTAssertEqual(String(cString: cmf_status_string(CMF_ERR_INTERNAL)), "internal error")
        XCTAssertEqual(String(cString: cmf_status_string(cmf_status(rawValue: 99))), "unknown status")
    }
}
