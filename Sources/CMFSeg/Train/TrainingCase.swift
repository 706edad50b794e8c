/// One case ready for patch sampling: its normalised channels and its labels on the padded
/// crop grid of the pre-processing (see ``TrainingDataset/load(folder:modalities:classValues:preprocess:minimumSize:storage:threads:progress:)``).
public struct TrainingCase: Sendable {
    /// The normalised channels, `[C, D, H, W]` on ``shape`` (channel c at offset
    /// `c · shape.count`), as ``Preprocessor/run(_:modalities:options:minimumSize:sizeMultiple:)``
    /// computes them; float16 storage holds the same values rounded to half precision.
    public enum Channels: Sendable {
        case float32([Float])
        /// Rounded to nearest; a non-zero value too small for half precision is kept as the
        /// smallest half of its sign (so it stays brain, never turns into background), a value
        /// beyond ±65504 is clamped to ±65504.
        case float16([Float16])

        /// Number of values.
        public var count: Int {
            switch self {
            case .float32(let v): return v.count
            case .float16(let v): return v.count
            }
        }

        /// Bytes held.
        public var bytes: Int {
            switch self {
            case .float32(let v): return v.count * MemoryLayout<Float>.size
            case .float16(let v): return v.count * MemoryLayout<Float16>.size
            }
        }

        /// The values as `Float` (a copy).
        public var floats: [Float] {
            switch self {
            case .float32(let v): return v
            case .float16(let v): return v.map(Float.init)
            }
        }

        /// Half-precision storage of `values` by the rule above (rounded to
        /// nearest, tiny non-zero values kept non-zero, clamped to ±65504).
        public static func halving(_ values: [Float]) -> Channels {
            let tiny = Float16.leastNonzeroMagnitude, big = Float16.greatestFiniteMagnitude
            return .float16(values.map { v in
                if v == 0 { return 0 }
                let h = Float16(max(min(v, Float(big)), -Float(big)))
                return h == 0 ? (v < 0 ? -tiny : tiny) : h
            })
        }
    }

    /// The case folder's name.
    public var name: String
    /// The padded crop grid: the brain box (``box``) zero-padded at the upper end of each axis
    /// to at least the patch size.
    public var shape: Shape3
    /// Channel order of ``channels``.
    public var modalities: [Modality]
    public var channels: Channels
    /// Class index per voxel of ``shape`` (x fastest) in the network's class order: index k
    /// is the k-th of the dataset's `classValues` (0 background, 1 edema, 2 NCR/NET, 3 ET for
    /// BraTS's [0, 2, 1, 4]); padding is 0.
    public var labels: [UInt8]
    /// Indices into ``labels`` of the voxels whose class is not 0, grouped by class: those of
    /// class 1 in increasing order, then class 2, and so on (see ``foregroundCounts``).
    public var foreground: [Int32]
    /// `foregroundCounts[k]`: how many entries of ``foreground`` belong to class k + 1.
    public var foregroundCounts: [Int]
    /// The crop box in the case's original grid (its lower corner is voxel (0, 0, 0) here).
    public var box: Box3
    /// The original grid of the case files.
    public var gridShape: Shape3
    /// Labelled (non-background) voxels of the label file outside ``box``: lost by the crop.
    /// 0 for skull-stripped data where the tumour lies inside the brain.
    public var labelsOutsideBox: Int

    /// - Precondition: sizes agree (`labels.count == shape.count`, `channels.count ==
    ///   modalities.count · shape.count`, `foregroundCounts` sums to `foreground.count`).
    public init(name: String, shape: Shape3, modalities: [Modality], channels: Channels, labels: [UInt8],
                foreground: [Int32], foregroundCounts: [Int], box: Box3, gridShape: Shape3, labelsOutsideBox: Int = 0) {
        precondition(labels.count == shape.count && channels.count == modalities.count * shape.count
                     && foregroundCounts.reduce(0, +) == foreground.count, "inconsistent training case \(name)")
        self.name = name
        self.shape = shape
        self.modalities = modalities
        self.channels = channels
        self.labels = labels
        self.foreground = foreground
        self.foregroundCounts = foregroundCounts
        self.box = box
        self.gridShape = gridShape
        self.labelsOutsideBox = labelsOutsideBox
    }

    /// The foreground voxels of class `k` (1 ≤ k ≤ foregroundCounts.count), a slice of
    /// ``foreground``.
    public func foreground(ofClass k: Int) -> ArraySlice<Int32> {
        let start = foregroundCounts.prefix(k - 1).reduce(0, +)
        return foreground[start..<(start + foregroundCounts[k - 1])]
    }

    /// Channel `c` as `Float` (a copy).
    public func channel(_ c: Int) -> [Float] {
        let n = shape.count
        switch channels {
        case .float32(let v): return Array(v[(c * n)..<((c + 1) * n)])
        case .float16(let v): return v[(c * n)..<((c + 1) * n)].map(Float.init)
        }
    }

    /// Bytes held by the case's arrays.
    public var memoryBytes: Int {
        channels.bytes + labels.count + foreground.count * MemoryLayout<Int32>.size
    }

    /// Indices of the foreground of `labels` grouped by class (1 ..< classCount), and the
    /// count per class.
    static func foregroundIndex(_ labels: [UInt8], classCount: Int) -> (indices: [Int32], counts: [Int]) {
        var counts = [Int](repeating: 0, count: max(0, classCount - 1))
        labels.withUnsafeBufferPointer { p in
            for v in p where v != 0 { counts[Int(v) - 1] += 1 }
        }
        var starts = [Int](repeating: 0, count: counts.count)
        for k in counts.indices.dropFirst() { starts[k] = starts[k - 1] + counts[k - 1] }
        let total = counts.reduce(0, +)
        let indices = [Int32](unsafeUninitializedCapacity: total) { out, n in
            labels.withUnsafeBufferPointer { p in
                for i in 0..<p.count where p[i] != 0 {
                    let k = Int(p[i]) - 1
                    out[starts[k]] = Int32(i)
                    starts[k] += 1
                }
            }
            n = total
        }
        return (indices, counts)
    }
}
