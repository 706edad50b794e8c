extension TrainingCase {
    /// Prepares a case held in memory exactly as
    /// ``TrainingDataset/load(folder:modalities:classValues:preprocess:minimumSize:storage:threads:progress:)``
    /// prepares a case folder: ``Preprocessor/run(_:modalities:options:minimumSize:sizeMultiple:)``
    /// on `input`, then `labels` mapped to class indices, cropped with the same box and
    /// zero-padded to the same grid.
    /// - Parameters:
    ///   - labels: the label map, on the grid of `input`, with values in `classValues`.
    ///   - labelSource: how messages name the label map (its file).
    ///   - classValues: label value of each class, background 0 first (see
    ///     ``TrainingDataset/classValues``).
    /// - Throws: as ``Preprocessor/run(_:modalities:options:minimumSize:sizeMultiple:)``;
    ///   `CMFError.shape` when `labels` is on another grid, `.format` naming each label value
    ///   outside `classValues` and its voxel count, `.invalidArgument` for bad `classValues`.
    public init(name: String, input: CaseInput, labels: LabelMap, labelSource: String = "labels",
                modalities: [Modality], classValues: [Int] = [0, 2, 1, 4],
                preprocess: PreprocessOptions = PreprocessOptions(), minimumSize: Shape3,
                storage: TrainingDataset.Storage = .float32) throws {
        try TrainingDataset.validateClassValues(classValues)
        if let m = modalities.first(where: { input.volumes[$0] != nil }), let v = input.volumes[m] {
            try Nifti.requireSameGrid([(input.name(m), v.shape, v.geometry), (labelSource, labels.shape, labels.geometry)])
        }
        let (classes, labelled) = try Self.classIndices(labels.voxels, classValues: classValues, source: labelSource)
        let prepared = try Preprocessor.run(input, modalities: modalities, options: preprocess, minimumSize: minimumSize)
        let pad = prepared.paddedShape
        guard pad.count < Int(Int32.max) else {
            throw CMFError.invalidArgument("\(labelSource): the padded crop \(pad) has too many voxels for training")
        }
        let (cropped, inside) = Self.cropLabels(classes, grid: labels.shape, box: prepared.box, padded: pad)
        let fg = Self.foregroundIndex(cropped, classCount: classValues.count)
        let values = Array(prepared.input.storage)
        let channels: Channels = storage == .float32 ? .float32(values) : .halving(values)
        self.init(name: name, shape: pad, modalities: modalities, channels: channels, labels: cropped,
                  foreground: fg.indices, foregroundCounts: fg.counts, box: prepared.box,
                  gridShape: prepared.gridShape, labelsOutsideBox: labelled - inside)
    }

    /// Label values → class indices, and how many voxels are labelled (not background).
    /// - Throws: `CMFError.format` naming the source, each value outside `classValues` and its
    ///   voxel count.
    static func classIndices(_ values: [UInt8], classValues: [Int], source: String) throws -> (classes: [UInt8], labelled: Int) {
        var lut = [UInt8](repeating: 0xFF, count: 256)
        for (k, v) in classValues.enumerated() { lut[v] = UInt8(k) }
        var histogram = [Int](repeating: 0, count: 256)
        let classes = histogram.withUnsafeMutableBufferPointer { h in
            lut.withUnsafeBufferPointer { t in
                values.withUnsafeBufferPointer { src in
                    [UInt8](unsafeUninitializedCapacity: src.count) { dst, n in
                        for i in 0..<src.count {
                            let v = src[i]
                            h[Int(v)] += 1
                            dst[i] = t[Int(v)]
                        }
                        n = src.count
                    }
                }
            }
        }
        let bad = (0..<256).filter { lut[$0] == 0xFF && histogram[$0] > 0 }
        guard bad.isEmpty else {
            let list = bad.map { "\($0) (\(histogram[$0]) voxel\(histogram[$0] == 1 ? "" : "s"))" }.joined(separator: ", ")
            throw CMFError.format("\(source) holds label values outside the classes \(classValues): \(list)")
        }
        return (classes, values.count - histogram[0])
    }

    /// The box of `classes` (on `grid`) zero-padded to `padded`, and the number of non-zero
    /// voxels inside the box.
    static func cropLabels(_ classes: [UInt8], grid: Shape3, box: Box3, padded: Shape3) -> ([UInt8], Int) {
        let crop = box.shape
        var out = [UInt8](repeating: 0, count: padded.count)
        var inside = 0
        out.withUnsafeMutableBufferPointer { dst in
            classes.withUnsafeBufferPointer { src in
                for z in 0..<crop.nz {
                    for y in 0..<crop.ny {
                        let s = grid.index(box.lower.x, box.lower.y + y, box.lower.z + z), d = padded.index(0, y, z)
                        for x in 0..<crop.nx {
                            let v = src[s + x]
                            dst[d + x] = v
                            if v != 0 { inside += 1 }
                        }
                    }
                }
            }
        }
        return (out, inside)
    }
}
