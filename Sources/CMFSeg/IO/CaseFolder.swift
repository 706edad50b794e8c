import FoundationEssentials

/// The files of a BraTS-style case folder: a folder named after the case holding one NIfTI
/// file per modality and, for training, the label map.
///
/// File names are `<case><sep><role><ext>` with `<sep>` `_` or `-`, `<ext>` `.nii.gz` or
/// `.nii`, and `<role>` one of
/// - `t1`, `t1ce`, `t2`, `flair`, `seg`: BraTS 2017–2021 and `cmfseg phantom`
///   (``PhantomCase/files(name:in:)``);
/// - `t1n`, `t1c`, `t2w`, `t2f`: the BraTS 2023 names of the same modalities.
///
/// Exactly one file may match a role; two (say `_t1.nii` and `_t1.nii.gz`) are an error.
public struct CaseFolder: Sendable, Equatable {
    /// The case name: the folder's name.
    public var name: String
    /// The folder.
    public var path: String
    /// The modality files found.
    public var images: [Modality: String]
    /// The label map, when there is one.
    public var seg: String?

    /// The role names a modality's file may carry, the BraTS 2017–2021 name first.
    public static func roleNames(_ m: Modality) -> [String] {
        switch m {
        case .t1: return ["t1", "t1n"]
        case .t1ce: return ["t1ce", "t1c"]
        case .t2: return ["t2", "t2w"]
        case .flair: return ["flair", "t2f"]
        }
    }

    /// Looks up the files of the case folder `path` (nothing is read).
    /// - Throws: `CMFError.io` when `path` is not a readable directory, `.invalidArgument`
    ///   when two files match one role.
    public init(_ path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let name = url.lastPathComponent
        let entries: Set<String>
        do {
            entries = Set(try FileManager.default.contentsOfDirectory(atPath: url.path))
        } catch {
            throw CMFError.io("cannot list case folder \(path): \(CMFError.reason(error))")
        }
        func find(_ roles: [String]) throws -> String? {
            var hits: [String] = []
            for role in roles {
                for sep in ["_", "-"] {
                    for ext in [".nii.gz", ".nii"] where entries.contains("\(name)\(sep)\(role)\(ext)") {
                        hits.append("\(name)\(sep)\(role)\(ext)")
                    }
                }
            }
            guard hits.count <= 1 else {
                throw CMFError.invalidArgument("case \(name) (\(url.path)): \(hits.joined(separator: " and ")) are both the \(roles[0]) file; keep one")
            }
            return hits.first.map { url.appendingPathComponent($0).path }
        }
        var images: [Modality: String] = [:]
        for m in Modality.allCases { images[m] = try find(Self.roleNames(m)) }
        self.name = name
        self.path = url.path
        self.images = images
        self.seg = try find(["seg"])
    }

    /// The sub-folders of `directory` in name order, hidden ones skipped: the case folders of
    /// a cohort (files beside them, such as BraTS's `name_mapping.csv`, are ignored).
    /// - Throws: `CMFError.io` when `directory` is not a readable directory.
    public static func folders(in directory: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw CMFError.io("cannot list \(directory): \(CMFError.reason(error))")
        }
        return names.sorted().compactMap { n in
            guard !n.hasPrefix(".") else { return nil }
            let p = FilePaths.join(directory, n)
            var isDir = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir else { return nil }
            return p
        }
    }

    /// The name a missing file would have (for messages): `<case>_<role>.nii.gz`.
    public func expectedFile(_ role: String) -> String { "\(name)_\(role).nii.gz" }
}
