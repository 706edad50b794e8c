import Foundation

/// The files behind a NIfTI path: one `.nii`/`.nii.gz`, or a `.hdr` + `.img` pair
/// (either name may be given; `.gz` variants too).
struct NiftiPaths: Equatable {
    var header: String
    var data: String
    var isPair: Bool

    /// Names the files for `path`. Compression is detected from the content when reading,
    /// from the `.gz` suffix when writing.
    static func resolve(_ path: String) -> NiftiPaths {
        for (ext, other) in [(".hdr.gz", ".img.gz"), (".hdr", ".img")] where path.hasSuffix(ext) {
            return NiftiPaths(header: path, data: String(path.dropLast(ext.count)) + other, isPair: true)
        }
        for (ext, other) in [(".img.gz", ".hdr.gz"), (".img", ".hdr")] where path.hasSuffix(ext) {
            return NiftiPaths(header: String(path.dropLast(ext.count)) + other, data: path, isPair: true)
        }
        return NiftiPaths(header: path, data: path, isPair: false)
    }

    /// True when `path` asks for gzip output.
    static func wantsGzip(_ path: String) -> Bool { path.hasSuffix(".gz") }
}
