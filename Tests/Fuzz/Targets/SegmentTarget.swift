import CMFSeg
import CMFSegABI
import Foundation

/// `cmf_segment` with a tiny random CMFF model (width 2, 16³ patches) on tiny volumes:
/// random dims (≤ 20 per axis) and spacing, which modalities are given, mismatched grids,
/// window, TTA and post-processing options, intensities with NaN and infinities.
enum SegmentTarget: FuzzTarget {
    static let name = "segment"

    /// Loaded on the first input, through the same C call as a host's weights.
    nonisolated(unsafe) static var model: OpaquePointer?

    static func loadModel() -> OpaquePointer {
        if let model { return model }
        do {
            let net = try Network.random(.cmffM2G, inChannels: 2, classes: 4, baseFilters: 2, seed: 1)
            let path = "\(Scratch.directory)/tiny.safetensors"
            try net.write(to: path, extraMetadata: ["patch": "16,16,16"])
            let rc = path.withCString { p in withUnsafePointer(to: Optional(p)) { cmf_model_load($0, 1, &model) } }
            guard rc == CMF_OK, let model else { finding("the tiny model does not load: \(String(cString: cmf_last_error_message()))") }
            return model
        } catch {
            finding("cannot make the tiny model: \(error)")
        }
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        let model = loadModel()
        var f = FuzzInput(input)
        let dims = [f.int(1...20), f.int(1...20), f.int(1...20)]
        let spacing = [f.spacing(), f.spacing(), f.spacing()]
        let given = f.int(0...4)   // all four, t1+t1ce, t2+flair, t1 alone, flair on another grid
        var p = cmf_segment_default_params()
        p.threads = 1
        let patch = f.byte() == 0xFF ? Int32(f.int(0...72)) - 2 : 16 * Int32(f.int(1...2))
        p.patch = (patch, patch, Int32(f.bool() ? 16 : Int(patch)))
        p.overlap = f.byte() == 0xFF ? Float(bitPattern: f.uint32()) : Float(f.int(0...75)) / 100
        p.tta = Int32(f.byte() == 0xFF ? 1 : 0)
        p.postprocess = Int32(f.byte() & 1)
        p.min_component_fraction = f.byte() == 0xFF ? Float(bitPattern: f.uint32()) : Float(f.int(0...100)) / 100
        p.grouping_dilation = Int32(f.int(0...5)) - 1
        p.connectivity = [6, 18, 26, 0, 7][f.int(0...4)]
        p.min_core_voxels = Int32(f.int(0...40)) - 1
        p.min_et_voxels = Int32(f.int(0...600)) - 1
        p.small_et_to_ncr = Int32(f.byte() & 1)
        p.nonfinite_to_zero = Int32(f.byte() & 1)
        let keepProbabilities = f.bool()

        func intensity(_ f: inout FuzzInput) -> Float {
            let b = f.byte()
            guard b == 0xFF else { return Float(b) * 4 }
            return [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -1e30][f.int(0...5)]
        }
        var volumes: [OpaquePointer?] = []
        defer { volumes.forEach(cmf_volume_free) }
        for m in 0..<4 {
            let wanted = [[0, 1, 2, 3], [0, 1], [2, 3], [0], [0, 1, 2, 3]][given].contains(m)
            guard wanted else { volumes.append(nil); continue }
            var d = dims
            if given == 4 && m == 3 { d[f.int(0...2)] += 1 }
            let voxels = f.runs(d[0] * d[1] * d[2], intensity, zero: 0)
            var v: OpaquePointer?
            guard cmf_volume_create(Int64(d[0]), Int64(d[1]), Int64(d[2]), spacing, voxels, &v) == CMF_OK else {
                // Only the spacing can be refused; segmenting is then not reached.
                return
            }
            volumes.append(v)
        }

        var labels: OpaquePointer?
        var probabilities = [OpaquePointer?](repeating: nil, count: 4)
        var info = cmf_segment_info()
        info.struct_size = UInt32(MemoryLayout<cmf_segment_info>.size)
        let status = probabilities.withUnsafeMutableBufferPointer { probs in
            cmf_segment(model, volumes[0], volumes[1], volumes[2], volumes[3], &p, &labels,
                        keepProbabilities ? probs.baseAddress : nil, &info)
        }
        defer { cmf_volume_free(labels); probabilities.forEach(cmf_volume_free) }
        if status == CMF_ERR_INTERNAL { finding(String(cString: cmf_last_error_message())) }
        guard status == CMF_OK else { return }
        var out = [Int64](repeating: 0, count: 3)
        guard cmf_volume_dims(labels, &out) == CMF_OK, out == dims.map(Int64.init), let data = cmf_volume_data(labels) else {
            finding("labels not on the input grid")
        }
        for i in 0..<dims.reduce(1, *) where ![0, 1, 2, 4].contains(data[i]) {
            finding("label value \(data[i]) in the output")
        }
    }

    /// A few cases: every modality, one pair, NaNs, a larger window with TTA.
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])] {
        // dims 12×10×8, 1 mm, then `given`, patch, overlap …: two bytes per int draw.
        let grid: [UInt8] = [11, 0, 9, 0, 7, 0, 24, 24, 24]
        let tumourish: [UInt8] = [10, 200, 60, 40, 120, 30, 10, 255]
        let options: [UInt8] = [0, 0, 0, 0, 0, 50, 0, 0, 1, 0, 33, 0, 2, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0]
        func modalities(_ n: Int) -> [UInt8] { (0..<n).flatMap { _ in tumourish } }
        return [("all_four", grid + [0, 0] + options + modalities(4)),
                ("t2_flair", grid + [2, 0] + options + modalities(2)),
                ("nan", grid + [0, 0] + options + [0xFF, 0, 0, 20] + modalities(4)),
                ("tta_patch32", grid + [0, 0] + [0, 1, 0, 1] + [0, 50, 0, 0xFF, 1] + options.dropFirst(5) + modalities(4))]
    }
}
