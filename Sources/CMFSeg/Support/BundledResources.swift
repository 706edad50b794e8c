import CCMFKernels
import FoundationEssentials

/// Finds the data the library ships with (the MNI152 template under `mni152/`, default
/// weights under `models/`), for a source checkout and for an installed library alike.
///
/// Search order, first hit wins:
/// 1. `$CMFSEG_DATA_DIR` (an explicit choice; if set, it must hold the file);
/// 2. `<dir of the binary holding this code>/../share/cmfseg` — the CMake install layout
///    seen from `libcmfseg.so` (so a host program anywhere finds the installed data) or
///    from a statically linked program;
/// 3. `<dir of the running executable>/../share/cmfseg`;
/// 4. `Sources/CMFSeg/Resources` of the source tree this module was built from.
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
        func shareFolder(beside binary: URL) -> URL {
            binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/cmfseg")
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Resources")
        var places = [shareFolder(beside: executable), sourceTree]
        if let library = binaryHoldingThisCode(), library != executable {
            places.insert(shareFolder(beside: library), at: 0)
        }
        return places
    }

    /// The shared library (or program) this code was loaded from.
    private static func binaryHoldingThisCode() -> URL? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let found = buffer.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cmfk_binary_path($0.baseAddress, $0.count) }
        }
        guard found == 1, let end = buffer.firstIndex(of: 0) else { return nil }
        return URL(fileURLWithPath: String(decoding: buffer[..<end], as: UTF8.self)).resolvingSymlinksInPath()
    }
}
