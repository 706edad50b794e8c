import ArgumentParser
import CMFSeg
import Foundation

/// `cmfseg forward`: runs a network on raw tensors (to check a forward pass against PyTorch
/// and to debug exported weights), or times one forward pass (`--bench`).
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

        With --bench, times --repeats forward passes on random inputs of --shape and \
        prints the times and effective GFLOP/s instead.

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

    @Flag(name: .long, help: "Time forward passes on random inputs instead of reading --inputs.")
    var bench = false

    @Option(name: .long, parsing: .upToNextOption, help: "Spatial size D H W for --bench.")
    var shape: [Int] = [128, 128, 128]

    @Option(name: .long, help: "Number of timed passes for --bench.")
    var repeats: Int = 1

    func validate() throws {
        guard !weights.isEmpty else { throw ValidationError("--weights needs at least one file") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        if bench {
            guard shape.count == 3, shape.allSatisfy({ $0 > 0 && $0 <= 1024 }) else {
                throw ValidationError("--shape needs three sizes in 1...1024")
            }
            guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1") }
        } else {
            guard inputs != nil, out != nil else { throw ValidationError("--inputs and --out are required (or --bench)") }
        }
    }

    /// Library errors reach `CMFSegCommand.main`, which prints one `cmfseg: error:` line.
    func run() throws {
        ProcessMemory.keepFreedMemory()
        let network = try Network.load(paths: weights)
        for note in network.notes { FileHandle.standardError.write(Data("cmfseg: note: \(note)\n".utf8)) }
        let ctx = ForwardContext(engine: engine.engine, threads: threads)
        if bench { return try runBench(network, ctx) }
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
            FileHandle.standardError.write(Data("cmfseg: note: ignoring input tensors \(extra.joined(separator: ", "))\n".utf8))
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

    func runBench(_ network: Network, _ ctx: ForwardContext) throws {
        var rng = SeededRandom(seed: 42)
        func random(_ c: Int) -> Tensor {
            let s = [1, c] + shape
            return Tensor(shape: s, storage: (0..<s.reduce(1, *)).map { _ in Float(rng.uniform(-1, 1)) })
        }
        let x0 = random(network.inChannels)
        let x1: Tensor? = { if case .cmff = network.body { return random(network.inChannels) } else { return nil } }()
        let flops = network.flops(spatial: shape)
        print("forward \(network.architecture.rawValue) on \(shape.map(String.init).joined(separator: "x")), engine \(ctx.engine.name), threads \(threads == 0 ? "default" : String(threads)): \(String(format: "%.1f", flops / 1e9)) GFLOP")
        var best = Double.infinity
        for k in 1...repeats {
            let c0 = cpuSeconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            switch network.body {
            case .cmff(let m): _ = try m.forward(x0, x1!, ctx)
            case .unet(let u): _ = try u.forward(x0, ctx)
            case .discriminator(let d): _ = try d.forward(x0, ctx)
            }
            let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, s)
            let c = cpuSeconds()
            print(String(format: "run %d: %.2f s, %.1f GFLOP/s (process CPU time %.2f s user, %.2f s system)",
                         k, s, flops / s / 1e9, c.user - c0.user, c.system - c0.system))
        }
        print(String(format: "best: %.2f s, %.1f GFLOP/s; peak resident memory %.2f GiB", best, flops / best / 1e9, peakResidentGiB()))
    }

    /// User and system CPU seconds of this process so far (shows contention on a shared machine).
    func cpuSeconds() -> (user: Double, system: Double) {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return (Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6,
                Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6)
    }

}
