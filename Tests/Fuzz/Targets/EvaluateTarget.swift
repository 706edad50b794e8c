import CMFSeg
import CMFSegABI
import Foundation

/// `cmf_evaluate_labels` on random label volumes: dims up to 24³, spacing, every option,
/// then the reference and prediction as runs of labels (now and then a value that is not
/// a label).
enum EvaluateTarget: FuzzTarget {
    static let name = "evaluate"

    static func run(_ input: UnsafeRawBufferPointer) {
        var f = FuzzInput(input)
        let (nx, ny, nz) = (f.int(1...24), f.int(1...24), f.int(1...24))
        let spacing = [f.spacing(), f.spacing(), f.spacing()]
        var p = cmf_eval_default_params()
        let brats2023 = f.bool()
        p.labels = brats2023 ? CMF_LABELS_BRATS2023 : CMF_LABELS_BRATS2018
        p.nsd_tolerance_mm = f.byte() == 0xFF ? f.float64() : Double(f.int(0...40)) / 4 - 1
        p.empty_distance = cmf_empty_distance(rawValue: UInt32(f.int(0...4)))
        p.empty_distance_value = f.byte() == 0xFF ? f.float64() : Double(f.byte())
        p.ignore_geometry = Int32(f.byte() & 1)
        p.threads = Int32(f.int(0...2))
        let labels: [UInt8] = brats2023 ? [0, 1, 2, 3] : [0, 1, 2, 4]
        func label(_ f: inout FuzzInput) -> UInt8 {
            let b = f.byte()
            return b == 0xFF ? f.byte() : labels[Int(b & 3)]
        }
        let count = nx * ny * nz
        let ref = f.runs(count, label, zero: 0)
        let pred = f.runs(count, label, zero: 0)
        var r = cmf_eval_result()
        r.struct_size = UInt32(MemoryLayout<cmf_eval_result>.size)
        let status = cmf_evaluate_labels(ref, pred, Int64(nx), Int64(ny), Int64(nz), spacing, &p, &r)
        if status == CMF_ERR_INTERNAL { finding(String(cString: cmf_last_error_message())) }
        guard status == CMF_OK else { return }
        for m in [r.regions.0, r.regions.1, r.regions.2] {
            for (what, v) in [("dice", m.dice), ("sensitivity", m.sensitivity), ("specificity", m.specificity)]
            where !v.isNaN && !(0...1).contains(v) {
                finding("\(what) \(v) outside [0, 1]")
            }
            if m.hd95.isFinite && m.hd.isFinite && m.hd95 > m.hd + 1e-9 { finding("hd95 \(m.hd95) > hd \(m.hd)") }
        }
    }

    /// A few structured cases: empty, identical, disjoint, overlapping blocks.
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])] {
        // 16×16×8 voxels (int draws are two bytes), 1×1×1.25 mm, default options.
        let header: [UInt8] = [15, 0, 15, 0, 7, 0, 24, 24, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let block: [UInt8] = [0, 255, 0, 100, 1, 20, 2, 30, 3, 10, 0, 255]
        let shifted: [UInt8] = [0, 255, 0, 130, 3, 40, 1, 15, 2, 25, 0, 255]
        return [("empty", header), ("identical", header + block + block),
                ("overlapping", header + block + shifted), ("disjoint", header + block + [0, 255, 0, 255, 2, 200])]
    }
}
