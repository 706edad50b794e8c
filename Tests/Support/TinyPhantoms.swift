import CMFSeg
import Foundation

/// Small phantom cohorts for training tests: MNI anatomy on the coarse 3 mm grid (80×80×52),
/// written once per (seed, count) in a scratch folder in the BraTS layout.
public enum TinyPhantoms {
    /// The folder with `count` cases of `seed`, or nil when they cannot be made.
    public static func folder(seed: UInt64, count: Int = 2) -> URL? {
        guard let template = try? TissueTemplate.sharedMNI152(),
              let g = try? PhantomGenerator(template: template, seed: seed, grid: .coarse(3)),
              let dir = try? Fixtures.scratchDirectory("tiny-phantoms-\(seed)") else { return nil }
        for k in 0..<count { guard (try? g.generate(index: k).write(into: dir)) != nil else { return nil } }
        return dir
    }
}
