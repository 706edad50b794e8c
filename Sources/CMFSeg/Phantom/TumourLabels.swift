/// BraTS labels from the tumour fractions: inside the brain mask, a voxel whose core
/// fraction (NCR + NET + ET) is ≥ 0.5 is labelled 4 when ET dominates the core, else 1;
/// otherwise, when core + edema ≥ 0.5, it is labelled 2; else 0.
enum TumourLabels {
    static func labels(tissue: TissueMaps, tumour: TumourFractions) -> [UInt8] {
        let n = tissue.brain.count
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n where tissue.brain[i] != 0 {
            let ncr = tumour.ncr[i] + tumour.net[i], et = tumour.et[i]
            let core = ncr + et
            if core >= 0.5 {
                out[i] = et > ncr ? 4 : 1
            } else if core + tumour.ed[i] >= 0.5 {
                out[i] = 2
            }
        }
        return out
    }
}
