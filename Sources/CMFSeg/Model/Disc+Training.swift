/// The discriminator's training forward and backward. The CycleGAN's generator step needs
/// ∂L/∂input through a discriminator without its weight gradients: pass `Gradients` with
/// `recordsWeights` false.
extension Disc {
    /// What the training forward keeps: the input, `conv_1`'s output, each block's.
    public struct Tape: Sendable {
        public var input: Tensor
        public var conv1: Tensor
        public var blocks: [CNLSaved]
    }

    public func forwardTraining(_ x: Tensor, _ ctx: ForwardContext) throws -> (output: Tensor, tape: Tape) {
        let (_, c, _, _, _) = try x.dims5("discriminator input")
        guard c == inChannels else {
            throw CMFError.shape("discriminator input has \(c) channels, the network takes \(inChannels)")
        }
        let y1 = try conv1.forward(x, ctx)
        var saved: [CNLSaved] = []
        var y = y1
        for b in blocks {
            let s = try b.forwardTraining(y, ctx)
            saved.append(s)
            y = s.output
        }
        return (try conv2.forward(y, ctx), Tape(input: x, conv1: y1, blocks: saved))
    }

    /// Backward of `forwardTraining`: weight gradients under `prefix` (when recorded) and
    /// ∂L/∂input when `needInputGradient`.
    public func backward(_ tape: Tape, gradOutput: Tensor, prefix: String = "", grads: inout Gradients,
                         needInputGradient: Bool, _ ctx: ForwardContext) throws -> Tensor? {
        var g = try conv2.backward(input: tape.blocks.last?.output ?? tape.conv1, gradOutput: gradOutput,
                                   name: prefix + "conv_2", grads: &grads, needInputGradient: true, ctx)!
        for k in blocks.indices.reversed() {
            let input = k == 0 ? tape.conv1 : tape.blocks[k - 1].output
            g = try blocks[k].backward(input: input, saved: tape.blocks[k], gradOutput: g, name: prefix + "conv_n_l_\(k + 1)",
                                       grads: &grads, needInputGradient: true, ctx)!
        }
        return try conv1.backward(input: tape.input, gradOutput: g, name: prefix + "conv_1", grads: &grads,
                                  needInputGradient: needInputGradient, ctx)
    }
}
