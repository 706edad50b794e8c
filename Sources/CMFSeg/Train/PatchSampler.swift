import CCMFKernels

/// Draws the training sample of each step: a random patch of a random case, augmented.
///
/// The sample of step k is a pure function of (dataset, patch, seed, options, k): it is drawn
/// with `SeededRandom(seed: SeededRandom.derivedSeed(seed, index: k))` alone, so a run resumed
/// at step k continues bit-identically without any saved sampler state, whatever the thread
/// count (the work is serial and has no other input).
///
/// Sampling as nnU-Net's:
/// 1. a case, uniformly;
/// 2. with probability `foregroundFraction`, a patch centred on a foreground voxel: a class
///    uniformly among the foreground classes present in the case, then one of its voxels
///    uniformly (so a small enhancing tumour is found as often as the large edema), the patch
///    moved as little as needed to lie inside the padded case. A case without foreground falls
///    back to a uniform position, as in nnU-Net (``TrainingBatch/centredOnForeground`` is then
///    false);
/// 3. otherwise a uniformly random position of the patch inside the padded case;
/// 4. augmentation (``AugmentationOptions``): mirroring per axis, then the intensity
///    transformations.
///
/// Random numbers are drawn in this order: case; foreground or not; class and voxel, or the
/// x, y, z position; mirror x, y, z; then for scale, shift, gamma and bias field in turn
/// whether it applies and, if so, its parameters channel by channel.
public struct PatchSampler: Sendable {
    public let dataset: TrainingDataset
    /// Patch size (x, y, z); multiples of 16 (the network's four poolings).
    public let patch: Shape3
    public let seed: UInt64
    public let foregroundFraction: Double
    public let augmentation: AugmentationOptions

    /// - Throws: `CMFError.invalidArgument` for an empty dataset, a patch that is not made of
    ///   multiples of 16 or larger than a case (name given; load the dataset with
    ///   `minimumSize` = the patch and it never is), `foregroundFraction` outside 0...1, or
    ///   invalid augmentation options.
    public init(dataset: TrainingDataset, patch: Shape3, seed: UInt64, foregroundFraction: Double = 1.0 / 3,
                augmentation: AugmentationOptions = AugmentationOptions()) throws {
        try augmentation.validate()
        guard !dataset.cases.isEmpty else { throw CMFError.invalidArgument("the training dataset has no case") }
        guard [patch.nx, patch.ny, patch.nz].allSatisfy({ $0 >= 16 && $0 % 16 == 0 }) else {
            throw CMFError.invalidArgument("patch \(patch) must be made of positive multiples of 16")
        }
        guard foregroundFraction.isFinite, (0...1).contains(foregroundFraction) else {
            throw CMFError.invalidArgument("foreground fraction \(foregroundFraction) must be in 0...1")
        }
        for c in dataset.cases where c.shape.nx < patch.nx || c.shape.ny < patch.ny || c.shape.nz < patch.nz {
            throw CMFError.invalidArgument("case \(c.name) (\(c.shape) after padding) is smaller than the patch \(patch); load the dataset with minimumSize = the patch")
        }
        self.dataset = dataset
        self.patch = patch
        self.seed = seed
        self.foregroundFraction = foregroundFraction
        self.augmentation = augmentation
    }

    /// The sample of training step `step`: the same step gives the same sample on every run.
    public func batch(step: Int) -> TrainingBatch {
        render(draw(step: step), step: step)
    }

    // MARK: Drawing

    /// Everything random about one sample.
    struct Draw: Equatable {
        var caseIndex: Int
        var origin: SIMD3<Int>
        var centredOnForeground: Bool
        var augmentation: TrainingBatch.Augmentation
        /// Per channel, the bias field's three per-axis coefficient triples (x, y, z), when the
        /// bias field applies.
        var biasCoefficients: [[Double]]?
    }

    /// A uniform integer in 0..<n (n ≥ 1): the high word of a 64 × 64-bit product.
    static func below(_ n: Int, _ rng: inout SeededRandom) -> Int {
        Int(rng.next().multipliedFullWidth(by: UInt64(n)).high)
    }

    func draw(step: Int) -> Draw {
        var rng = SeededRandom(seed: SeededRandom.derivedSeed(seed, index: step))
        let ci = Self.below(dataset.cases.count, &rng)
        let c = dataset.cases[ci]
        let s = c.shape
        let wantsForeground = rng.chance(foregroundFraction)
        let present = c.foregroundCounts.indices.filter { c.foregroundCounts[$0] > 0 }.map { $0 + 1 }
        var origin: SIMD3<Int>
        var centred = false
        if wantsForeground && !present.isEmpty {
            let k = present[Self.below(present.count, &rng)]
            let voxels = c.foreground(ofClass: k)
            let i = Int(voxels[voxels.startIndex + Self.below(voxels.count, &rng)])
            let v = SIMD3(i % s.nx, (i / s.nx) % s.ny, i / (s.nx * s.ny))
            let p = SIMD3(patch.nx, patch.ny, patch.nz), n = SIMD3(s.nx, s.ny, s.nz)
            origin = pointwiseMin(pointwiseMax(v &- p / 2, .zero), n &- p)
            centred = true
        } else {
            origin = SIMD3(Self.below(s.nx - patch.nx + 1, &rng),
                           Self.below(s.ny - patch.ny + 1, &rng),
                           Self.below(s.nz - patch.nz + 1, &rng))
        }
        var a = TrainingBatch.Augmentation()
        a.flipX = rng.chance(augmentation.flipProbability)
        a.flipY = rng.chance(augmentation.flipProbability)
        a.flipZ = rng.chance(augmentation.flipProbability)
        let channels = dataset.modalities.count
        let o = augmentation
        if rng.chance(o.probability), let r = o.intensityScale {
            a.scale = (0..<channels).map { _ in rng.uniform(r.lowerBound, r.upperBound) }
        }
        if rng.chance(o.probability), let r = o.intensityShift {
            a.shift = (0..<channels).map { _ in rng.uniform(r.lowerBound, r.upperBound) }
        }
        if rng.chance(o.probability), let r = o.gamma {
            a.gamma = (0..<channels).map { _ in
                guard r.lowerBound < 1, r.upperBound > 1 else { return rng.uniform(r.lowerBound, r.upperBound) }
                return rng.chance(0.5) ? rng.uniform(r.lowerBound, 1) : rng.uniform(1, r.upperBound)
            }
        }
        var bias: [[Double]]?
        if rng.chance(o.probability), let b = o.biasField, b > 0 {
            var amplitudes: [Double] = [], coefficients: [[Double]] = []
            for _ in 0..<channels {
                amplitudes.append(rng.uniform(0, b))
                coefficients.append((0..<9).map { _ in rng.normal() })
            }
            a.biasAmplitude = amplitudes
            bias = coefficients
        }
        return Draw(caseIndex: ci, origin: origin, centredOnForeground: centred, augmentation: a, biasCoefficients: bias)
    }

    // MARK: Rendering

    func render(_ draw: Draw, step: Int) -> TrainingBatch {
        let c = dataset.cases[draw.caseIndex]
        let s = c.shape, p = patch, o = draw.origin, a = draw.augmentation
        let channels = dataset.modalities.count
        let (fx, fy, fz) = (a.flipX ? Int32(1) : 0, a.flipY ? Int32(1) : 0, a.flipZ ? Int32(1) : 0)
        var status: Int32 = 0
        var storage = [Float](unsafeUninitializedCapacity: channels * p.count) { dst, n in
            switch c.channels {
            case .float32(let v):
                status = v.withUnsafeBufferPointer { src in
                    cmfk_patch_crop_f32(src.baseAddress, Int64(channels), Int64(s.nx), Int64(s.ny), Int64(s.nz),
                                        Int64(o.x), Int64(o.y), Int64(o.z), Int64(p.nx), Int64(p.ny), Int64(p.nz),
                                        fx, fy, fz, dst.baseAddress)
                }
            case .float16(let v):
                status = v.withUnsafeBytes { raw in
                    cmfk_patch_crop_f16(raw.baseAddress?.assumingMemoryBound(to: UInt16.self), Int64(channels),
                                        Int64(s.nx), Int64(s.ny), Int64(s.nz),
                                        Int64(o.x), Int64(o.y), Int64(o.z), Int64(p.nx), Int64(p.ny), Int64(p.nz),
                                        fx, fy, fz, dst.baseAddress)
                }
            }
            n = channels * p.count
        }
        precondition(status == 0, "patch \(p) at \(o) does not fit case \(c.name) (\(s))")
        let labels = [UInt8](unsafeUninitializedCapacity: p.count) { dst, n in
            status = c.labels.withUnsafeBufferPointer { src in
                cmfk_patch_crop_u8(src.baseAddress, 1, Int64(s.nx), Int64(s.ny), Int64(s.nz),
                                   Int64(o.x), Int64(o.y), Int64(o.z), Int64(p.nx), Int64(p.ny), Int64(p.nz),
                                   fx, fy, fz, dst.baseAddress)
            }
            n = p.count
        }
        precondition(status == 0, "patch \(p) at \(o) does not fit case \(c.name) (\(s))")
        applyIntensity(draw, to: &storage)
        return TrainingBatch(input: Tensor(shape: [1, channels, p.nz, p.ny, p.nx], storage: storage), labels: labels,
                             caseIndex: draw.caseIndex, origin: o, step: step,
                             centredOnForeground: draw.centredOnForeground, augmentation: a)
    }
}
