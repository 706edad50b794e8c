/// A dense float32 tensor in row-major order (last axis fastest), PyTorch's layout.
///
/// Network tensors are 5-D `[N, C, D, H, W]`. A volume maps onto `[D, H, W]` with
/// D = z, H = y, W = x (see ``Shape3``), so a volume's voxel array is already a valid
/// `[D, H, W]` tensor without any copy or transpose.
public struct Tensor: Sendable {
    public var shape: [Int]
    public var storage: TensorStorage

    /// - Precondition: `storage.count` equals the product of `shape` (internal invariant).
    public init(shape: [Int], storage: TensorStorage) {
        precondition(storage.count == shape.reduce(1, *), "storage \(storage.count) does not match shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A copy of `values` (row-major) as a tensor of `shape`.
    public init(shape: [Int], storage values: [Float]) {
        self.init(shape: shape, storage: TensorStorage(values))
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { storage.count }

    /// A tensor whose values a kernel is about to overwrite, every one of them: no zeroing
    /// pass over the (often 100+ MB) buffer (see ``TensorStorage``).
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }
}
