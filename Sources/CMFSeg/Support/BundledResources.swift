import Foundation

/// Finds the data the library ships with (the MNI152 template under `mni152/`, default
/// weights under `models/`), for a source checkout and for an installed library alike.
///
/// Search order, first hit wins:
/// 1. `$CMFSEG_DATA_DIR` (an explicit choice; if set, it must hold the file);
/// 2. `<dir of the running executable>/../share/cmfseg` (the CMake install layout);
/// 3. `Sources/CMFSeg/Resources` of the source tree this module was built from.
public enum BundledResources {
    /// The path of a bundled file, e.g. `"mni152/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"`.
    /// - Throws: `CMFError.io` listing every place searched when the file is in none.
    public static func file(_ relative: String) throws -> URL {
        let fm = FileManager.default
        let candidates = searchDirectories().map { $0.appendingPathComponent(relative) }
        if let hit = candidates.first(where: { fm.isReadableFile(atPath: $0.path) }) { return hit }
        let places = candidates.map(\.path).joined(separator: ", ")
        throw CMFError.io("bundled file \(relative) not found (searched: \(places)); set CMFSEG_DATA_DIR to the folder that holds it")
    }

    static func searchDirectories() -> [URL] {
        if let explicit = ProcessInfo.processInfo.environment["CMFSEG_DATA_DIR"], !explicit.isEmpty {
            return [URL(fileURLWithPath: explicit)]
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/cmfseg")
        let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Resources")
        return [installed, sourceTree]
    }
}
