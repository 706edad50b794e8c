import XCTest

final class VersionCommandTests: XCTestCase {
    func testVersionFlagPrintsLibraryVersion() throws {
        let r = try CLI.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("0.1."), r.stdout)
    }
}
