/// What a report says about one label map: voxels per label, the volume of each label and
/// region in cm³, and where its tumour lies.
public struct LabelStatistics: Sendable, Equatable {
    /// Voxels per label value (index 0…255).
    public var counts: [Int]
    /// The label convention the map was checked against.
    public var convention: LabelConvention
    /// Volume of one voxel in mm³ (the product of the spacing).
    public var voxelVolumeMM3: Double
    /// The mean voxel position (x, y, z) of the whole tumour (every non-zero label); nil
    /// when the map has no tumour.
    public var tumourCentre: SIMD3<Double>?

    /// Counts the labels of `labels` in one pass.
    /// - Parameter name: the map's name in messages (e.g. its file).
    /// - Throws: `CMFError.invalidArgument` naming the first voxel whose label is not one of
    ///   `convention`'s, and the value.
    public init(_ labels: LabelMap, convention: LabelConvention, name: String) throws {
        var counts = [Int](repeating: 0, count: 256)
        var sum = SIMD3<Double>(repeating: 0)
        let shape = labels.shape
        labels.voxels.withUnsafeBufferPointer { v in
            var i = 0
            for z in 0..<shape.nz {
                for y in 0..<shape.ny {
                    var rowTumour = 0, rowX = 0
                    for x in 0..<shape.nx {
                        let label = Int(v[i])
                        counts[label] += 1
                        if label != 0 { rowTumour += 1; rowX += x }
                        i += 1
                    }
                    sum += SIMD3(Double(rowX), Double(y * rowTumour), Double(z * rowTumour))
                }
            }
        }
        let allowed = convention.allowedLabels
        if let bad = (0..<256).first(where: { counts[$0] > 0 && !allowed.contains(UInt8($0)) }) {
            let i = labels.voxels.firstIndex(of: UInt8(bad)) ?? 0
            let (x, y, z) = (i % shape.nx, (i / shape.nx) % shape.ny, i / (shape.nx * shape.ny))
            let list = allowed.map(String.init).joined(separator: ", ")
            throw CMFError.invalidArgument("\(name): voxel (\(x), \(y), \(z)) has label \(bad), not a \(convention.displayName) label (\(list))")
        }
        let tumour = counts.dropFirst().reduce(0, +)
        self.counts = counts
        self.convention = convention
        let s = labels.geometry.spacing
        self.voxelVolumeMM3 = s.x * s.y * s.z
        self.tumourCentre = tumour > 0 ? sum / Double(tumour) : nil
    }

    /// Voxels of `region`.
    public func voxels(of region: TumorRegion) -> Int {
        convention.labels(of: region).reduce(0) { $0 + counts[Int($1)] }
    }

    /// Volume of `region` in cm³.
    public func volumeCM3(of region: TumorRegion) -> Double {
        Double(voxels(of: region)) * voxelVolumeMM3 / 1000
    }

    /// Volume of the voxels labelled `label` in cm³.
    public func volumeCM3(label: UInt8) -> Double {
        Double(counts[Int(label)]) * voxelVolumeMM3 / 1000
    }

    /// The tumour labels of `convention` with what they mean: NCR/NET, edema, enhancing tumour.
    public static func labelNames(_ convention: LabelConvention) -> [(label: UInt8, name: String)] {
        let et = convention.labels(of: .enhancingTumor)[0]
        return [(1, "necrotic / non-enhancing core"), (2, "edema"), (et, "enhancing tumour")]
    }
}
