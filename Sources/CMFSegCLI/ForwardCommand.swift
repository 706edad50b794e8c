import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg forward`: runs a network on raw tensors (to check a forward pass against PyTorch
/// and to debug exported weights); `cmfseg bench forward` times one.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run a network on raw tensors from a safetensors file.",
        discussion: """
        CMFF models read `x0` (pair A) and `x1` (pair B), [N, 2, D, H, W], and write the \
        softmax outputs `s0`, `s1` (branches) and `fused`. Other networks read `input` and \
        write `output` (softmax probabilities for segmentation U-Nets, linear output for \
        the generator, patch scores for the discriminator). Spatial sizes of U-Net inputs \
        must be multiples of 16.

        With --gradients, the inputs file must also hold `labels` (uint8 [D, H, W] or \
        [N, D, H, W], class indices in the network's order: 0 background, 1 edema, \
        2 NCR/NET, 3 ET); the soft-Dice training loss (`loss_0`, `loss_1`, `loss_f` and \
        their mean `loss` for CMFF, `loss` for one network) and the gradient of every \
        parameter (`grad.<name>`, PyTorch names) are written next to the outputs.
        """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Weight files (safetensors), loaded together.")
    var weights: [String]

    @Option(name: .long, help: "Input tensors (safetensors).")
    var inputs: String?

    @Option(name: .long, help: "Output file (safetensors), written atomically.")
    var out: String?

    @Option(name: .long, help: "Worker threads (0: OpenMP's default).")
    var threads: Int = 0

    @Option(name: .long, help: EngineName.help)
    var engine: EngineName = .onednn

    @Flag(name: .long, help: "Also write the training loss and every parameter's gradient (needs `labels` in --inputs).")
    var gradients = false

    func validate() throws {
        guard !weights.isEmpty else { throw ValidationError("--weights needs at least one file") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        guard inputs != nil, out != nil else { throw ValidationError("--inputs and --out are required") }
    }

    /// Library errors reach `CMFSegCommand.main`, which prints one `cmfseg: error:` line.
    func run() throws {
        let network = try Network.load(paths: weights)
        for note in network.notes { writeStandardError("cmfseg: note: \(note)\n") }
        let ctx = ForwardContext(engine: engine.engine, threads: threads)
        let input = try SafeTensorsFile.read(path: inputs!)
        func need(_ name: String) throws -> Tensor {
            guard let t = input[name] else {
                throw CMFError.format("\(inputs!): no input tensor \"\(name)\" (the \(network.architecture.rawValue) network reads \(inputNames(network).joined(separator: ", ")))")
            }
            return t
        }
        let known = Set(inputNames(network) + (gradients ? ["labels"] : []))
        let extra = input.entries.map(\.name).filter { !known.contains($0) }
        if !extra.isEmpty {
            writeStandardError("cmfseg: note: ignoring input tensors \(extra.joined(separator: ", "))\n")
        }
        var outputs: [SafeTensorsFile.Entry] = []
        switch network.body {
        case .cmff(let m):
            let o = try m.forward(need("x0"), need("x1"), ctx)
            outputs = [.init(name: "s0", tensor: o.s0), .init(name: "s1", tensor: o.s1), .init(name: "fused", tensor: o.fused)]
        case .unet(let u):
            var y = try u.forward(need("input"), ctx).logits
            if network.architecture.isSegmentation { try y.softmaxChannels(threads: threads) }
            outputs = [.init(name: "output", tensor: y)]
        case .discriminator(let d):
            outputs = [.init(name: "output", tensor: try d.forward(need("input"), ctx))]
        }
        if gradients { outputs += try lossAndGradients(network, input, ctx) }
        let meta = ["architecture": network.architecture.rawValue, "engine": ctx.engine.name,
                    "producer": "cmfseg \(CMFSegVersion.string) forward"]
        try SafeTensorsFile(entries: outputs, metadata: meta).write(to: out!)
    }

    /// The training loss on the inputs' `labels` and every parameter's gradient, as entries.
    func lossAndGradients(_ network: Network, _ file: SafeTensorsFile, _ ctx: ForwardContext) throws -> [SafeTensorsFile.Entry] {
        guard let labels = file["labels"] else {
            throw CMFError.format("\(inputs!): --gradients needs a uint8 tensor \"labels\" (class indices) in the inputs")
        }
        let input: Tensor
        if case .cmff = network.body {
            guard let x0 = file["x0"], let x1 = file["x1"] else { throw CMFError.format("\(inputs!): CMFF needs x0 and x1") }
            input = try Tensor.concatChannels([x0, x1])
        } else {
            guard let x = file["input"] else { throw CMFError.format("\(inputs!): no input tensor \"input\"") }
            input = x
        }
        let (n, _, d, h, w) = try input.dims5("input")
        guard labels.count == n * d * h * w else {
            throw CMFError.shape("\(inputs!): labels have shape \(labels.shape), the inputs' grid is \([n, d, h, w])")
        }
        let classes = network.outChannels
        let values = try labels.storage.map { v -> UInt8 in
            guard v >= 0, v < Float(classes), v == v.rounded() else {
                throw CMFError.invalidArgument("\(inputs!): label value \(v) is not a class index 0...\(classes - 1)")
            }
            return UInt8(v)
        }
        let (losses, grads) = try SegmentationObjective.lossAndGradients(network, input: input, labels: values, ctx)
        var out: [SafeTensorsFile.Entry] = [.init(name: "loss", tensor: Tensor(shape: [1], storage: [Float(losses.total)]))]
        if losses.parts.count > 1 {
            out += losses.parts.keys.sorted().map { .init(name: $0, tensor: Tensor(shape: [1], storage: [Float(losses.parts[$0]!)])) }
        }
        out += network.namedParameters().compactMap { name, _ in grads[name].map { .init(name: "grad.\(name)", tensor: $0) } }
        return out
    }

    func inputNames(_ network: Network) -> [String] {
        if case .cmff = network.body { return ["x0", "x1"] }
        return ["input"]
    }
}
