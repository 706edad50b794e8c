import Foundation

/// Paths of the committed test fixtures (Tests/Fixtures) and scratch directories.
public enum Fixtures {
    /// The repository root, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String {
        root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    /// A fresh empty directory under the system temp dir, removed by the caller if wanted.
    public static func scratchDirectory(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("cmfseg-tests-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
