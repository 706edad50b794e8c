import FoundationEssentials
import Glibc

extension PhantomCase {
    /// The folder of a case and its five files, BraTS-named:
    /// `<dir>/<name>/<name>_{t1,t1ce,t2,flair,seg}.nii.gz`.
    public static func files(name: String, in directory: URL) -> (folder: URL, images: [Modality: URL], seg: URL) {
        let folder = directory.appendingPathComponent(name)
        var images: [Modality: URL] = [:]
        for m in Modality.allCases { images[m] = folder.appendingPathComponent("\(name)_\(m.rawValue).nii.gz") }
        return (folder, images, folder.appendingPathComponent("\(name)_seg.nii.gz"))
    }

    /// Writes the case into `directory` (which must exist): contrasts as float32 NIfTI-1,
    /// labels as uint8, all `.nii.gz` with the grid's BraTS-like geometry.
    ///
    /// All-or-nothing: the files are written into a hidden temporary folder beside the
    /// destination, which is renamed to `<name>` only when complete. An existing case folder
    /// is an error unless `replace` is true; then it is swapped out after the new one is
    /// complete and removed.
    /// - Returns: the case folder.
    /// - Throws: `CMFError.io` naming the folder (exists, unwritable, rename failed).
    @discardableResult
    public func write(into directory: URL, replace: Bool = false) throws -> URL {
        let fm = FileManager.default
        let final = PhantomCase.files(name: name, in: directory)
        if fm.fileExists(atPath: final.folder.path) && !replace {
            throw CMFError.io("\(final.folder.path) already exists (use --force to replace it)")
        }
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let temp = directory.appendingPathComponent(".\(name).tmp-\(tag)")
        do {
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
        } catch {
            throw CMFError.io("cannot create a folder in \(directory.path): \(CMFError.reason(error))")
        }
        do {
            // the files as they will be named inside the case folder, written into the temporary
            let files = PhantomCase.files(name: name, in: directory)
            func staged(_ url: URL) -> String { temp.appendingPathComponent(url.lastPathComponent).path }
            for m in Modality.allCases {
                guard let image = images[m], let url = files.images[m] else {
                    throw CMFError.internal("phantom \(name): the \(m.rawValue) image is missing")
                }
                try Nifti.write(image, to: staged(url), description: "cmfseg phantom \(m.rawValue)")
            }
            try Nifti.write(labels, to: staged(files.seg), description: "cmfseg phantom labels 0/1/2/4")
            var old: URL?
            if fm.fileExists(atPath: final.folder.path) {
                let o = directory.appendingPathComponent(".\(name).old-\(tag)")
                guard rename(final.folder.path, o.path) == 0 else {
                    throw CMFError.io("cannot replace \(final.folder.path): \(String(cString: strerror(errno)))")
                }
                old = o
            }
            guard rename(temp.path, final.folder.path) == 0 else {
                let reason = String(cString: strerror(errno))
                if let old { _ = rename(old.path, final.folder.path) }
                throw CMFError.io("cannot create \(final.folder.path): \(reason)")
            }
            if let old { try? fm.removeItem(at: old) }
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
        return final.folder
    }
}
