/// The U-Net's training forward and backward. One table (`inputs`) says where each block's
/// input comes from; the forward follows it top to bottom and the backward bottom to top,
/// recomputing pools, up-samplings and concatenations from the kept block outputs instead of
/// storing them (they are cheap; a full-resolution concatenation at 128³ is 268 MB).
extension M3DUNet {
    /// Where a block's input comes from (indices into `blockIDs`).
    enum BlockInput {
        case networkInput
        case block(Int)
        case pooled(Int)
        /// `cat(up(deeper), skip)`.
        case upAndSkip(deeper: Int, skip: Int)
    }

    /// The input of each block, in `blockIDs` order.
    static let inputs: [BlockInput] = [
        .networkInput, .block(0),                   // 11, 12
        .pooled(1), .block(2),                      // 21, 22
        .pooled(3), .block(4),                      // 31, 32
        .pooled(5), .block(6),                      // 41, 42
        .pooled(7), .block(8),                      // 51, 52
        .upAndSkip(deeper: 9, skip: 7), .block(10),  // 43, 44
        .upAndSkip(deeper: 11, skip: 5), .block(12), // 33, 34
        .upAndSkip(deeper: 13, skip: 3), .block(14), // 23, 24
        .upAndSkip(deeper: 15, skip: 1), .block(16), // 13, 14
    ]
    static let x2Index = 15   // block 24: the half-resolution feature map
    static let x1Index = 17   // block 14: the full-resolution feature map

    /// What the training forward keeps.
    public struct Tape: Sendable {
        public var input: Tensor
        /// Every block's output and 1/std, in `blockIDs` order.
        public var blocks: [CNLSaved]
        public var x1: Tensor { blocks[M3DUNet.x1Index].output }
        public var x2: Tensor { blocks[M3DUNet.x2Index].output }
    }

    func blockInput(_ i: Int, input: Tensor, outputs: [CNLSaved], threads: Int) throws -> Tensor {
        switch Self.inputs[i] {
        case .networkInput: return input
        case .block(let j): return outputs[j].output
        case .pooled(let j): return try outputs[j].output.maxPool2(threads: threads)
        case .upAndSkip(let deeper, let skip):
            return try Tensor.concatChannels([outputs[deeper].output.upsample2(threads: threads), outputs[skip].output],
                                             threads: threads)
        }
    }

    /// The training forward: the logits (`conv_last`, before any softmax) and the tape.
    /// - Throws: as `forward`.
    public func forwardTraining(_ x: Tensor, _ ctx: ForwardContext) throws -> (logits: Tensor, tape: Tape) {
        try checkInput(x)
        var saved: [CNLSaved] = []
        saved.reserveCapacity(blocks.count)
        for i in blocks.indices {
            try ctx.checkCancelled()
            let input = try blockInput(i, input: x, outputs: saved, threads: ctx.threads)
            saved.append(try blocks[i].forwardTraining(input, ctx))
        }
        let tape = Tape(input: x, blocks: saved)
        return (try convLast.forward(tape.x1, ctx), tape)
    }

    /// Backward of `forwardTraining`.
    /// - Parameters:
    ///   - gradLogits: ∂L/∂logits.
    ///   - featureGradients: ∂L/∂(a block's output) from other consumers of the feature maps
    ///     (the CMFF fusion reads x1 and x2; feature distillation reads more), as (block
    ///     index, gradient) pairs; several for one block add up.
    ///   - prefix: the parameter-name prefix (`net_0.` inside CMFF, `` alone).
    /// - Returns: ∂L/∂input when `needInputGradient`, else nil.
    public func backward(_ tape: Tape, gradLogits: Tensor, featureGradients: [(block: Int, gradient: Tensor)] = [], prefix: String = "",
                         grads: inout Gradients, needInputGradient: Bool, _ ctx: ForwardContext) throws -> Tensor? {
        let t = ctx.threads
        var tape = tape
        var d = [Tensor?](repeating: nil, count: blocks.count)
        func accumulate(_ i: Int, _ g: Tensor) throws {
            if d[i] == nil { d[i] = g } else { try d[i]!.add(g) }
        }
        if let g = try convLast.backward(input: tape.x1, gradOutput: gradLogits, name: prefix + "conv_last", grads: &grads,
                                         needInputGradient: true, ctx) {
            try accumulate(Self.x1Index, g)
        }
        for (i, g) in featureGradients {
            guard blocks.indices.contains(i) else { throw CMFError.internal("U-Net backward: no block \(i)") }
            try accumulate(i, g)
        }
        var inputGradient: Tensor?
        for i in blocks.indices.reversed() {
            try ctx.checkCancelled()
            guard let gOut = d[i] else { throw CMFError.internal("U-Net backward: block \(Self.blockIDs[i]) has no gradient") }
            d[i] = nil
            let input = try blockInput(i, input: tape.input, outputs: tape.blocks, threads: t)
            let wantInput: Bool
            if case .networkInput = Self.inputs[i] { wantInput = needInputGradient } else { wantInput = true }
            let gIn = try blocks[i].backward(input: input, saved: tape.blocks[i], gradOutput: gOut,
                                             name: prefix + "conv_norm_lrelu_\(Self.blockIDs[i])", grads: &grads,
                                             needInputGradient: wantInput, ctx)
            switch Self.inputs[i] {
            case .networkInput:
                inputGradient = gIn
            case .block(let j):
                try accumulate(j, gIn!)
            case .pooled(let j):
                try accumulate(j, tape.blocks[j].output.maxPool2Backward(gradOutput: gIn!, threads: t))
            case .upAndSkip(let deeper, let skip):
                let split = tape.blocks[deeper].output.shape[1]
                let total = gIn!.shape[1]
                try accumulate(deeper, gIn!.channels(0..<split).upsample2Backward(threads: t))
                try accumulate(skip, gIn!.channels(split..<total))
            }
            // Every reader of a block's output comes later in the forward, so earlier in the
            // backward: nothing needs it any more.
            tape.blocks[i].output = Tensor(zeros: [0])
        }
        return inputGradient
    }

    /// - Throws: `CMFError.shape` unless `x` is `[N, inChannels, D, H, W]` with D, H, W multiples of 16.
    func checkInput(_ x: Tensor) throws {
        let (_, c, d, h, w) = try x.dims5("U-Net input")
        guard c == inChannels else {
            throw CMFError.shape("U-Net input has \(c) channels, the network takes \(inChannels)")
        }
        guard d % 16 == 0, h % 16 == 0, w % 16 == 0 else {
            throw CMFError.shape("U-Net input spatial size \([d, h, w]) is not a multiple of 16")
        }
    }
}
