import Dispatch
import FoundationEssentials
import Synchronization

/// The pre-processing of the method, shared by inference and training.
///
/// Steps, in order (defaults = the authors' `utils/dataset.py`):
/// 1. validate (one grid, finite values; see ``CaseInput/validate(nonFinite:)``);
/// 2. brain mask: voxels non-zero in every available modality (``PreprocessOptions/BrainMaskRule``);
/// 3. crop every modality to the bounding box of the brain mask;
/// 4. per modality, over the voxels of the crop that are non-zero in *that* modality:
///    clip a copy to its `lowerPercentile`/`upperPercentile` percentiles (numpy linear,
///    ``Percentile``), take the mean over the non-zero voxels of the clipped copy and its
///    standard deviation (``PreprocessOptions/Normalization``), and set each non-zero voxel
///    to (value − mean) / std (the unclipped value, as the authors); zero voxels stay 0;
/// 5. zero-pad each axis at its upper end to at least `minimumSize`, then up to a multiple
///    of `sizeMultiple`.
public enum Preprocessor {
    /// - Parameters:
    ///   - input: the case; validated (and non-finite voxels replaced if the options say so).
    ///   - modalities: channel order of the result; each must be in `input`.
    ///   - minimumSize: smallest padded size per axis (the patch size for inference).
    ///   - sizeMultiple: padded sizes are rounded up to a multiple of this (≥ 1).
    ///   - threads: modalities normalised at once (≤ 0: one per CPU); 1 for callers that
    ///     already run cases in parallel.
    /// - Throws: `CMFError.invalidArgument` (missing modality, non-finite values, empty
    ///   brain mask, constant modality), `CMFError.shape` (grids differ).
    public static func run(_ input: CaseInput, modalities: [Modality], options: PreprocessOptions = PreprocessOptions(),
                           minimumSize: Shape3 = Shape3(1, 1, 1), sizeMultiple: Int = 1,
                           threads: Int = 1) throws -> PreprocessedCase {
        try run(input, modalities: modalities, options: options, minimumSizeForCrop: { _ in minimumSize },
                sizeMultiple: sizeMultiple, threads: threads)
    }

    /// As ``run(_:modalities:options:minimumSize:sizeMultiple:threads:)``, with the smallest
    /// padded size chosen from the brain box's size (the fitted window layout sizes its
    /// windows from it), so the case is padded once, to its final size.
    public static func run(_ input: CaseInput, modalities: [Modality], options: PreprocessOptions = PreprocessOptions(),
                           minimumSizeForCrop: (Shape3) -> Shape3, sizeMultiple: Int = 1,
                           threads: Int = 1) throws -> PreprocessedCase {
        try options.validate()
        guard sizeMultiple >= 1 else {
            throw CMFError.invalidArgument("padding sizes must be positive (multiple \(sizeMultiple))")
        }
        var input = input
        try input.validate(nonFinite: options.nonFinite)
        guard !modalities.isEmpty else { throw CMFError.invalidArgument("no modality requested") }
        var channels: [ImageVolume] = []
        for m in modalities {
            guard let v = input.volumes[m] else {
                throw CMFError.invalidArgument("the model needs \(m.rawValue) but it was not given (given: \(input.available.map(\.rawValue).joined(separator: ", ")))")
            }
            channels.append(v)
        }
        let all = input.available.compactMap { input.volumes[$0] }
        let grid = all[0].shape
        let mask = brainMask(all, rule: options.brainMask)
        guard let box = Box3.bounding(grid, where: { mask[$0] != 0 }) else {
            let rule = options.brainMask == .allNonZero ? "non-zero in every given modality" : "non-zero in any given modality"
            throw CMFError.invalidArgument("no voxel is \(rule) (\(input.available.map { input.name($0) }.joined(separator: ", "))); the images are empty or do not overlap")
        }
        let crop = box.shape
        let minimumSize = minimumSizeForCrop(crop)
        guard minimumSize.nx >= 1, minimumSize.ny >= 1, minimumSize.nz >= 1 else {
            throw CMFError.invalidArgument("padding sizes must be positive (minimum \(minimumSize), multiple \(sizeMultiple))")
        }
        func padded(_ n: Int, _ minimum: Int) -> Int {
            let m = max(n, minimum)
            return (m + sizeMultiple - 1) / sizeMultiple * sizeMultiple
        }
        let pad = Shape3(padded(crop.nx, minimumSize.nx), padded(crop.ny, minimumSize.ny), padded(crop.nz, minimumSize.nz))
        var storage = [Float](repeating: 0, count: modalities.count * pad.count)
        let names = modalities.map { input.name($0) }, volumes = channels
        let workers = min(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount, channels.count)
        let failure = Mutex<(Int, any Error)?>(nil)
        storage.withUnsafeMutableBufferPointer { out in
            // Each modality writes its own channel: disjoint ranges of one buffer.
            nonisolated(unsafe) let out = out
            let normalise: @Sendable (Int) -> Void = { c in
                do {
                    let normalised = try zScore(box.extract(from: volumes[c].voxels, grid: grid), options: options, name: names[c])
                    let base = c * pad.count
                    for z in 0..<crop.nz {
                        for y in 0..<crop.ny {
                            let src = crop.index(0, y, z), dst = base + pad.index(0, y, z)
                            for x in 0..<crop.nx { out[dst + x] = normalised[src + x] }
                        }
                    }
                } catch {
                    failure.withLock { if $0 == nil || $0!.0 > c { $0 = (c, error) } }
                }
            }
            if workers <= 1 {
                for c in channels.indices { normalise(c) }
            } else {
                let next = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    while case let c = next.add(1, ordering: .relaxed).oldValue, c < volumes.count { normalise(c) }
                }
            }
        }
        // The first failing modality's error, whatever the threads' order.
        if let (_, error) = failure.withLock({ $0 }) { throw error }
        return PreprocessedCase(
            modalities: modalities,
            input: Tensor(shape: [1, modalities.count, pad.nz, pad.ny, pad.nx], storage: storage),
            box: box, paddedShape: pad, gridShape: grid, geometry: all[0].geometry, brainMask: mask)
    }

    /// 1 where the rule holds, else 0, on the volumes' common grid.
    public static func brainMask(_ volumes: [ImageVolume], rule: PreprocessOptions.BrainMaskRule) -> [UInt8] {
        guard let first = volumes.first else { return [] }
        var mask = [UInt8](repeating: rule == .allNonZero ? 1 : 0, count: first.shape.count)
        for v in volumes {
            v.voxels.withUnsafeBufferPointer { p in
                for i in 0..<p.count {
                    if rule == .allNonZero {
                        if p[i] == 0 { mask[i] = 0 }
                    } else if p[i] != 0 {
                        mask[i] = 1
                    }
                }
            }
        }
        return mask
    }

    /// The z-score of step 4 on one cropped modality.
    /// - Throws: `CMFError.invalidArgument` when the modality has no non-zero voxel in the
    ///   crop or a zero standard deviation (a constant image cannot be normalised).
    public static func zScore(_ values: [Float], options: PreprocessOptions = PreprocessOptions(), name: String = "image") throws -> [Float] {
        var nonZero = values.filter { $0 != 0 }
        guard !nonZero.isEmpty else {
            throw CMFError.invalidArgument("\(name) is zero everywhere inside the brain box; nothing to normalise")
        }
        guard let bounds = Percentile.linear(selectingIn: &nonZero, [options.lowerPercentile, options.upperPercentile]) else {
            throw CMFError.internal("percentiles of an empty array")
        }
        let (lo, hi) = (bounds[0], bounds[1])
        // Statistics of the clipped copy (zeros stay zero, non-zero voxels clipped to [lo, hi]).
        var sum = 0.0
        for v in nonZero { sum += min(max(Double(v), lo), hi) }
        let n = Double(nonZero.count)
        let mean = sum / n
        var std: Double
        switch options.normalization {
        case .nonZeroStd:
            var ss = 0.0
            for v in nonZero { let d = min(max(Double(v), lo), hi) - mean; ss += d * d }
            std = (ss / n).squareRoot()
        case .authors:
            // Whole crop, zeros included: population std of the clipped copy.
            let total = Double(values.count)
            let meanAll = sum / total
            var ss = 0.0
            for v in nonZero { let d = min(max(Double(v), lo), hi) - meanAll; ss += d * d }
            ss += (total - n) * meanAll * meanAll
            std = (ss / total).squareRoot()
        }
        guard std > 0, std.isFinite else {
            throw CMFError.invalidArgument("\(name) has a constant intensity inside the brain box (standard deviation 0); it cannot be z-scored")
        }
        return values.map { $0 == 0 ? 0 : Float((Double($0) - mean) / std) }
    }
}
