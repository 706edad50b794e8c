/// The files behind a NIfTI path: one `.nii`/`.nii.gz`, or a `.hdr` + `.img` pair
/// (either name may be given; `.gz` variants too; suffixes in any letter case).
struct NiftiPaths: Equatable {
    var header: String
    var data: String
    var isPair: Bool

    /// Names the files for `path`. Compression is detected from the content when reading,
    /// from the `.gz` suffix when writing.
    static func resolve(_ path: String) -> NiftiPaths {
        let lower = path.lowercased()
        for (ext, other) in [(".hdr.gz", ".img.gz"), (".hdr", ".img")] where lower.hasSuffix(ext) {
            return NiftiPaths(header: path, data: swapSuffix(path, ext.count, other), isPair: true)
        }
        for (ext, other) in [(".img.gz", ".hdr.gz"), (".img", ".hdr")] where lower.hasSuffix(ext) {
            return NiftiPaths(header: swapSuffix(path, ext.count, other), data: path, isPair: true)
        }
        return NiftiPaths(header: path, data: path, isPair: false)
    }

    /// Replaces the last `count` characters with `suffix`, upper-cased if they were.
    private static func swapSuffix(_ path: String, _ count: Int, _ suffix: String) -> String {
        let old = path.suffix(count)
        return String(path.dropLast(count)) + (old == old.uppercased() ? suffix.uppercased() : suffix)
    }

    /// True when `path` asks for gzip output.
    static func wantsGzip(_ path: String) -> Bool { path.lowercased().hasSuffix(".gz") }

    /// Outputs that NIfTI keeps in one file (a 4-D image, a segmentation's label map): `path`
    /// must end in .nii or .nii.gz.
    /// - Throws: `CMFError.invalidArgument` naming the path and `what` it is.
    static func requireSingleFile(_ path: String, what: String) throws {
        let lower = path.lowercased()
        guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
            throw CMFError.invalidArgument("cannot write \(path): write \(what) as a single .nii or .nii.gz file")
        }
    }

    /// True when `path` has a suffix the writer knows.
    static func isWritable(_ path: String) -> Bool {
        let lower = path.lowercased()
        return [".nii", ".nii.gz", ".hdr", ".img", ".hdr.gz", ".img.gz"].contains { lower.hasSuffix($0) }
    }
}
