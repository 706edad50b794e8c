import CCMFKernels

/// The training losses of the method (`Sources/CMFSeg/Train/README.md`), each returning its value
/// (accumulated in double) and the gradient w.r.t. its first argument, as PyTorch's
/// `loss.backward()` with an upstream gradient of 1 would give it. Scale both to combine
/// losses (e.g. the cycle loss's λ = 10, the discriminator's 0.5).
public enum Loss {
    /// A loss value and ∂loss/∂(the first argument), of that argument's shape.
    public struct Value: Sendable {
        public var loss: Double
        public var gradient: Tensor

        public init(loss: Double, gradient: Tensor) {
            self.loss = loss
            self.gradient = gradient
        }
    }

    /// The authors' soft Dice loss (V-Net, squared terms in the denominator) over the
    /// foreground classes k = 1…C-1, each summed over the whole batch and space:
    /// `D_k = (2 Σ p_k t_k + eps) / (Σ p_k² + Σ t_k² + eps)` with t the one-hot labels,
    /// `loss = 1 - mean_k D_k`. Class 0 (background) gets a zero gradient.
    /// - Parameters:
    ///   - probabilities: the softmax output `[N, C, D, H, W]`, C >= 2.
    ///   - labels: class index per voxel, [N*D*H*W], network class order; probabilities [N,C,D,H,W].
    ///   - eps: the smoothing term added to numerator and denominator (the authors' 1e-5).
    /// - Returns: the loss with ∂loss/∂probabilities, and `D_k` for k = 1…C-1.
    /// - Throws: `CMFError.shape` for a label count that does not match or C < 2,
    ///   `.invalidArgument` for a label >= C.
    public static func softDice(probabilities: Tensor, labels: [UInt8], eps: Float = 1e-5,
                                threads: Int) throws -> (value: Value, dicePerClass: [Double]) {
        let (n, c, d, h, w) = try probabilities.dims5("soft Dice probabilities")
        guard c >= 2 else { throw CMFError.shape("soft Dice needs at least 2 classes, probabilities have shape \(probabilities.shape)") }
        let plane = d * h * w
        guard labels.count == n * plane else {
            throw CMFError.shape("soft Dice: \(labels.count) labels for probabilities \(probabilities.shape) (\(n * plane) voxels)")
        }
        var loss = 0.0
        var dice = [Double](repeating: 0, count: c - 1)
        var grad = Tensor(zeros: probabilities.shape)
        let rc = probabilities.storage.withUnsafeBufferPointer { p in
            labels.withUnsafeBufferPointer { l in
                dice.withUnsafeMutableBufferPointer { dk in
                    grad.storage.withUnsafeMutableBufferPointer { g in
                        cmfk_soft_dice_f32(p.baseAddress, l.baseAddress, Int64(n), Int64(c), Int64(plane), eps, &loss,
                                           dk.baseAddress, g.baseAddress, Int32(clamping: threads))
                    }
                }
            }
        }
        if rc == -2, let bad = labels.first(where: { Int($0) >= c }) {  // the kernel checked the labels
            throw CMFError.invalidArgument("soft Dice: label \(bad) is not a class of \(c)")
        }
        try kernelCheck(rc, "soft Dice")
        return (Value(loss: loss, gradient: grad), dice)
    }

    /// Mean absolute difference `mean |a - b|` (PyTorch's `L1Loss`); the gradient w.r.t. `a`
    /// is `sign(a - b) / count` with sign(0) = 0.
    /// - Throws: `CMFError.shape` unless the shapes are equal and non-empty.
    public static func l1(_ a: Tensor, _ b: Tensor, threads: Int) throws -> Value {
        guard a.shape == b.shape, a.count > 0 else {
            throw CMFError.shape("L1 loss: shapes \(a.shape) and \(b.shape) must be equal and non-empty")
        }
        var loss = 0.0
        var grad = Tensor(zeros: a.shape)
        let count = a.count
        let rc = a.storage.withUnsafeBufferPointer { x in
            b.storage.withUnsafeBufferPointer { y in
                grad.storage.withUnsafeMutableBufferPointer { g in
                    cmfk_l1_loss_f32(x.baseAddress, y.baseAddress, Int64(count), &loss, g.baseAddress, Int32(clamping: threads))
                }
            }
        }
        try kernelCheck(rc, "L1 loss")
        return Value(loss: loss, gradient: grad)
    }

    /// Mean squared difference `mean (a - b)²` (PyTorch's `MSELoss`); the gradient w.r.t. `a`
    /// is `2 (a - b) / count`.
    /// - Throws: `CMFError.shape` unless the shapes are equal and non-empty.
    public static func mse(_ a: Tensor, _ b: Tensor, threads: Int) throws -> Value {
        guard a.shape == b.shape, a.count > 0 else {
            throw CMFError.shape("MSE loss: shapes \(a.shape) and \(b.shape) must be equal and non-empty")
        }
        var difference = a
        try difference.add(b.scaled(by: -1))
        let count = Double(a.count)
        return Value(loss: try difference.sumOfSquares(threads: threads) / count,
                     gradient: difference.scaled(by: Float(2 / count)))
    }

    /// Mean squared difference to a constant, `mean (x - target)²` (PyTorch's `MSELoss`
    /// against a tensor filled with `target`: the LSGAN loss, target 1 for real, 0 for fake);
    /// the gradient w.r.t. `x` is `2 (x - target) / count`.
    /// - Throws: `CMFError.shape` for an empty tensor.
    public static func mse(_ x: Tensor, target: Float, threads: Int) throws -> Value {
        guard x.count > 0 else { throw CMFError.shape("MSE loss of an empty tensor \(x.shape)") }
        var loss = 0.0
        var grad = Tensor(zeros: x.shape)
        let count = x.count
        let rc = x.storage.withUnsafeBufferPointer { v in
            grad.storage.withUnsafeMutableBufferPointer { g in
                cmfk_mse_const_loss_f32(v.baseAddress, Int64(count), target, &loss, g.baseAddress, Int32(clamping: threads))
            }
        }
        try kernelCheck(rc, "MSE loss")
        return Value(loss: loss, gradient: grad)
    }
}
