import CCMFKernels

/// Shape helpers for 5-D `[N, C, D, H, W]` network tensors.
extension Tensor {
    /// The shape checked to be 5-D `[N, C, D, H, W]` with positive sizes.
    /// - Throws: `CMFError.shape` naming `what` otherwise.
    public func dims5(_ what: String = "tensor") throws -> (n: Int, c: Int, d: Int, h: Int, w: Int) {
        guard shape.count == 5, shape.allSatisfy({ $0 > 0 }) else {
            throw CMFError.shape("\(what): expected a 5-D [N, C, D, H, W] tensor, got shape \(shape)")
        }
        return (shape[0], shape[1], shape[2], shape[3], shape[4])
    }

    /// Number of values in one channel plane (`D*H*W` for a 5-D tensor).
    var planeCount: Int { shape.count >= 2 ? shape.dropFirst(2).reduce(1, *) : 1 }

    /// A tensor whose `storage.count` is checked against `shape` (for data from outside).
    /// - Throws: `CMFError.shape` when they disagree or a size is negative.
    public static func checked(shape: [Int], storage: [Float]) throws -> Tensor {
        var count = 1
        for s in shape {
            guard s >= 0 else { throw CMFError.shape("negative size in shape \(shape)") }
            let (m, o) = count.multipliedReportingOverflow(by: s)
            guard !o else { throw CMFError.shape("shape \(shape) overflows") }
            count = m
        }
        guard count == storage.count else {
            throw CMFError.shape("shape \(shape) needs \(count) values, got \(storage.count)")
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// The largest absolute difference to `other` (same shape), NaN-aware (NaN → infinity).
    public func maxAbsDifference(_ other: Tensor) throws -> Float {
        guard shape == other.shape else {
            throw CMFError.shape("cannot compare shapes \(shape) and \(other.shape)")
        }
        var m: Float = 0
        for i in 0..<storage.count {
            let d = abs(storage[i] - other.storage[i])
            if d.isNaN { return .infinity }
            if d > m { m = d }
        }
        return m
    }
}

extension Tensor {
    /// Channels `range` of a 5-D tensor, `[N, range.count, D, H, W]`.
    /// - Throws: `CMFError.shape` if the range is outside the channel axis.
    public func channels(_ range: Range<Int>) throws -> Tensor {
        let (n, c, d, h, w) = try dims5("tensor")
        guard range.lowerBound >= 0, range.upperBound <= c, !range.isEmpty else {
            throw CMFError.shape("channels \(range) out of range for shape \(shape)")
        }
        let plane = d * h * w, per = range.count * plane
        var out = Tensor(uninitializedShape: [n, range.count, d, h, w])
        out.storage.withUnsafeMutableBufferPointer { dst in
            storage.withUnsafeBufferPointer { src in
                for s in 0..<n {
                    _ = cmfk_copy_f32(dst.baseAddress! + s * per, src.baseAddress! + (s * c + range.lowerBound) * plane,
                                      Int64(per), 1)
                }
            }
        }
        return out
    }
}
