import CMFSeg
import Foundation

/// A small synthetic MRI case: an ellipsoidal "brain" with a brighter "tumour", smooth
/// deterministic intensities per modality, on an oblique grid. Random weights do not
/// segment it meaningfully; it exercises the mechanics.
public enum SyntheticCase {
    public static let names = ["t1", "t1ce", "t2", "flair"]

    /// Voxels of modality `m` (0...3), x fastest.
    public static func voxels(_ m: Int, nx: Int, ny: Int, nz: Int) -> [Float] {
        var v = [Float](repeating: 0, count: nx * ny * nz)
        let cx = Double(nx) / 2, cy = Double(ny) / 2, cz = Double(nz) / 2
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            let bx = (Double(x) - cx) / (0.45 * Double(nx)), by = (Double(y) - cy) / (0.45 * Double(ny)), bz = (Double(z) - cz) / (0.45 * Double(nz))
            guard bx * bx + by * by + bz * bz <= 1 else { continue }
            let tx = (Double(x) - cx * 1.2) / 6, ty = (Double(y) - cy * 0.9) / 5, tz = (Double(z) - cz) / 5
            let tumour = tx * tx + ty * ty + tz * tz <= 1 ? 1.0 : 0.0
            let texture = 15 * sin(Double(x * (m + 2)) / 5) + 10 * cos(Double(y + z * (m + 1)) / 4)
            v[x + nx * (y + ny * z)] = Float(100 + 10 * Double(m) + texture + (m >= 2 ? 80 : 40) * tumour)
        } } }
        return v
    }

    /// The geometry written: 1 × 1.1 × 1.2 mm, a small rotation, sform code 2, qform code 1.
    public static var geometry: Geometry {
        var g = Geometry(spacing: SIMD3(1, 1.1, 1.2))
        g.sformCode = 2
        g.sform = [1, 0.02, 0, -30, -0.02, 1.1, 0, -40, 0, 0, 1.2, -20, 0, 0, 0, 1]
        return g
    }

    /// Writes `case_<modality>.nii.gz` for the chosen modalities into `dir`.
    /// - Returns: modality name → path.
    @discardableResult
    public static func write(to dir: URL, nx: Int, ny: Int, nz: Int, modalities: [String] = names) throws -> [String: String] {
        var paths: [String: String] = [:]
        for (m, name) in names.enumerated() where modalities.contains(name) {
            let p = dir.appendingPathComponent("case_\(name).nii.gz").path
            try Nifti.write(ImageVolume(shape: Shape3(nx, ny, nz), geometry: geometry, voxels: voxels(m, nx: nx, ny: ny, nz: nz)), to: p)
            paths[name] = p
        }
        return paths
    }

    /// The M2G fixture weights (random, from PyTorch), loaded together.
    public static var m2gWeights: [String] {
        ["net0", "net1", "fusion"].map { Fixtures.path("pytorch/m2g_rand_\($0).safetensors") }
    }
}
