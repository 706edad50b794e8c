import CMFSeg
import CMFSegABI
import Foundation

/// The NIfTI reader: NIfTI-1/2, plain or gzip (told from the content), single files and
/// `.hdr`/`.img` pairs, through `cmf_volume_read`, the label reader and `cmfseg info`'s
/// summary.
///
/// Input: a single file's bytes; or "PAIR", the header's length (4 bytes, little endian),
/// the header's bytes and the image's bytes.
enum NiftiTarget: FuzzTarget {
    static let name = "nifti"
    static let pairTag = Array("PAIR".utf8)

    static func run(_ input: UnsafeRawBufferPointer) {
        let path: String
        if input.starts(with: pairTag) {
            var f = FuzzInput(UnsafeRawBufferPointer(rebasing: input[4...]))
            let headerLength = Int(f.uint32())
            _ = Scratch.write("pair.hdr", f.take(headerLength))
            path = Scratch.write("pair.img", f.rest())
        } else {
            path = Scratch.write("image.nii", input)
        }
        var volume: OpaquePointer?
        let status = cmf_volume_read(path, &volume)
        if status == CMF_ERR_INTERNAL { finding(String(cString: cmf_last_error_message())) }
        if status == CMF_OK {
            var dims = [Int64](repeating: 0, count: 3)
            guard cmf_volume_dims(volume, &dims) == CMF_OK, let data = cmf_volume_data(volume) else {
                finding("a volume read without dims or data")
            }
            // Touch every voxel: a short buffer shows up under ASan here.
            var sum: Float = 0
            for i in 0..<Int(dims[0] * dims[1] * dims[2]) { sum += data[i] }
            _ = sum
            cmf_volume_free(volume)
        }
        _ = expectingCMFErrors { try Nifti.readLabels(path) }
        _ = expectingCMFErrors { try NiftiSummary.of(path).text }
    }

    /// Every NIfTI fixture; each pair joined into one input.
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])] {
        let dir = fixtures.appendingPathComponent("nifti")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        func bytes(_ f: String) throws -> [UInt8] { Array(try Data(contentsOf: dir.appendingPathComponent(f))) }
        var seeds: [(name: String, bytes: [UInt8])] = []
        for f in files where f.hasSuffix(".nii") || f.hasSuffix(".nii.gz") {
            seeds.append((f, try bytes(f)))
        }
        for h in files where h.contains(".hdr") {
            let header = try bytes(h)
            var length = UInt32(header.count).littleEndian
            let seed = pairTag + withUnsafeBytes(of: &length) { Array($0) } + header
                + (try bytes(h.replacingOccurrences(of: ".hdr", with: ".img")))
            seeds.append((h.replacingOccurrences(of: ".hdr", with: ".pair"), seed))
        }
        return seeds
    }
}
