/// A case ready for the network: normalised, cropped and padded channels, and what is needed
/// to put results back into the input grid.
public struct PreprocessedCase: Sendable {
    /// The channel order of `input`.
    public var modalities: [Modality]
    /// `[1, modalities.count, D, H, W]` with D = z, H = y, W = x of `paddedShape`.
    public var input: Tensor
    /// The crop box in the input grid (its lower corner is voxel (0, 0, 0) of `input`).
    public var box: Box3
    /// The grid of `input`: `box.shape` zero-padded at the upper end of each axis.
    public var paddedShape: Shape3
    /// The input grid and its geometry.
    public var gridShape: Shape3
    public var geometry: Geometry
    /// The brain mask on the input grid (1 inside, 0 outside), by the options' rule.
    public var brainMask: [UInt8]

    /// The same case zero-padded at the upper end of each axis to at least `minimum`.
    public func padded(toAtLeast minimum: Shape3) -> PreprocessedCase {
        let old = paddedShape
        let new = Shape3(max(old.nx, minimum.nx), max(old.ny, minimum.ny), max(old.nz, minimum.nz))
        guard new != old else { return self }
        let c = modalities.count
        var storage = [Float](repeating: 0, count: c * new.count)
        input.storage.withUnsafeBufferPointer { src in
            storage.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<c {
                    for z in 0..<old.nz {
                        for y in 0..<old.ny {
                            let s = ch * old.count + old.index(0, y, z), d = ch * new.count + new.index(0, y, z)
                            for x in 0..<old.nx { dst[d + x] = src[s + x] }
                        }
                    }
                }
            }
        }
        var copy = self
        copy.input = Tensor(shape: [1, c, new.nz, new.ny, new.nx], storage: storage)
        copy.paddedShape = new
        return copy
    }
}
