@testable import CMFSeg
import Foundation

/// Softmax over classes of a fixed affine function of the channels, voxel by voxel: a
/// position-independent (and flip-equivariant) network, so stitching must be exact.
struct LinearSoftmaxPredictor: PatchPredictor {
    var modalities: [Modality] = Modality.allCases
    var classCount = 4
    var sizeMultiple = 8
    /// weights[k][c], bias[k]
    var weights: [[Float]] = [[0.5, -1, 0.25, 0], [1, 0.5, -0.5, 0.2], [-0.3, 0.8, 1, -1], [0.1, 0.1, -0.2, 1.5]]
    var bias: [Float] = [1, 0, -0.5, 0.2]

    func probabilities(for input: Tensor) throws -> Tensor {
        let c = input.shape[1], n = input.shape[2] * input.shape[3] * input.shape[4]
        var out = [Float](repeating: 0, count: classCount * n)
        for i in 0..<n {
            var logits = [Float](repeating: 0, count: classCount)
            for k in 0..<classCount {
                var s = bias[k]
                for ch in 0..<c { s += weights[k][ch] * input.storage[ch * n + i] }
                logits[k] = s
            }
            let m = logits.max()!
            let e = logits.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for k in 0..<classCount { out[k * n + i] = e[k] / z }
        }
        return Tensor(shape: [1, classCount, input.shape[2], input.shape[3], input.shape[4]], storage: out)
    }

    /// The same function on a whole volume `[1, C, D, H, W]` (the oracle).
    func whole(_ input: Tensor) throws -> Tensor { try probabilities(for: input) }
}

/// Box blur (3×3×3, zero padding inside the window) of channel 0, then a 2-class
/// "sigmoid": not position independent near window borders, but equivariant under flips.
struct BlurPredictor: PatchPredictor {
    var modalities: [Modality] = [.t1]
    var classCount = 2
    var sizeMultiple = 1

    func probabilities(for input: Tensor) throws -> Tensor {
        let d = input.shape[2], h = input.shape[3], w = input.shape[4]
        let s = Shape3(w, h, d)
        var out = [Float](repeating: 0, count: 2 * s.count)
        for z in 0..<d { for y in 0..<h { for x in 0..<w {
            var acc: Float = 0
            for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
                let X = x + dx, Y = y + dy, Z = z + dz
                if X >= 0, Y >= 0, Z >= 0, X < w, Y < h, Z < d { acc += input.storage[s.index(X, Y, Z)] }
            } } }
            let p = 1 / (1 + exp(-acc / 27))
            out[s.index(x, y, z)] = 1 - p
            out[s.count + s.index(x, y, z)] = p
        } } }
        return Tensor(shape: [1, 2, d, h, w], storage: out)
    }
}

/// Class 1 probability = x / (W − 1) inside the window: mirroring along x must average it
/// to exactly 0.5. Counts its calls.
final class RampPredictor: PatchPredictor, @unchecked Sendable {
    let modalities: [Modality] = [.t1]
    let classCount = 2
    let sizeMultiple = 1
    private let lock = NSLock()
    private var _calls = 0
    var calls: Int { lock.lock(); defer { lock.unlock() }; return _calls }

    func probabilities(for input: Tensor) throws -> Tensor {
        lock.lock(); _calls += 1; lock.unlock()
        let d = input.shape[2], h = input.shape[3], w = input.shape[4]
        let s = Shape3(w, h, d)
        var out = [Float](repeating: 0, count: 2 * s.count)
        for z in 0..<d { for y in 0..<h { for x in 0..<w {
            let p = Float(x) / Float(max(w - 1, 1))
            out[s.index(x, y, z)] = 1 - p
            out[s.count + s.index(x, y, z)] = p
        } } }
        return Tensor(shape: [1, 2, d, h, w], storage: out)
    }
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    let values = (0..<n).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2000) / 500 - 2
    }
    return Tensor(shape: shape, storage: values)
}
