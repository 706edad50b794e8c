import ArgumentParser
import CMFSeg
import Dispatch
import FoundationEssentials

/// `cmfseg bench forward|case|train`: benchmarks that print numbers (never assertions).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the network: a forward pass, a whole case, a training step.",
        discussion: """
        Each measurement runs once to warm up (primitive creation, first-touch allocation), \
        then --repeat times; the fastest is reported. Without --weights the model is a CMFF \
        network of the standard width (F = 16, --base-filters) with PyTorch's default random \
        initialisation, which costs what a trained one does. --json prints one object.
        """,
        subcommands: [BenchForwardCommand.self, BenchCaseCommand.self, BenchTrainCommand.self]
    )
}

/// The options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .long, help: "Timed repetitions of each measurement.") var `repeat`: Int = 3
    @Option(name: .customLong("base-filters"), help: "Base width F of the random model.") var baseFilters: Int = 16
    @Option(name: .long, parsing: .upToNextOption, help: "Weights instead of a random model.") var weights: [String] = []
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    func validate() throws {
        guard `repeat` >= 1, threads >= 0, baseFilters >= 1, baseFilters <= 64 else {
            throw ValidationError("--repeat and --base-filters (≤ 64) must be positive, --threads >= 0")
        }
    }

    /// The network measured: --weights, or a random CMFF network of width --base-filters.
    func network() throws -> Network {
        weights.isEmpty ? try Network.random(.cmffM2G, inChannels: 2, classes: 4, baseFilters: baseFilters, seed: 1)
                        : try Network.load(paths: weights)
    }

    /// The fastest of `repeat` timed runs after one warm-up, in seconds. One buffer-pool scope
    /// spans them all, as it spans the windows of a segmentation and the steps of a training run.
    func fastest(_ body: () throws -> Void) rethrows -> Double {
        TensorStorage.openPoolScope()
        defer { TensorStorage.closePoolScope() }
        try body()
        var best = Double.infinity
        for _ in 0..<`repeat` {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    /// Seconds of one inference forward pass of `network` on random inputs of `spatial` (D, H, W).
    func forwardSeconds(_ network: Network, spatial: [Int], _ ctx: ForwardContext) throws -> Double {
        var rng = SeededRandom(seed: 42)
        func random() -> Tensor {
            let s = [1, network.inChannels] + spatial
            return Tensor(shape: s, storage: (0..<s.reduce(1, *)).map { _ in Float(rng.uniform(-1, 1)) })
        }
        let x0 = random(), x1 = random()
        return try fastest {
            switch network.body {
            case .cmff(let m): _ = try m.forward(x0, x1, ctx)
            case .unet(let u): _ = try u.forward(x0, ctx)
            case .discriminator(let d): _ = try d.forward(x0, ctx)
            }
        }
    }

    /// `{"key": value, ...}` with the keys in the given order.
    func printJSON(_ fields: [(String, Any)]) {
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}

/// `--patch`: one side (a cube) or D H W, each a positive multiple of 16 up to 512.
func benchPatch(_ patch: [Int]) throws -> [Int] {
    let dhw = patch.count == 1 ? [patch[0], patch[0], patch[0]] : patch
    guard dhw.count == 3, dhw.allSatisfy({ $0 > 0 && $0 % 16 == 0 && $0 <= 512 }) else {
        throw ValidationError("--patch takes one size or three (D H W), each a positive multiple of 16 up to 512")
    }
    return dhw
}

/// `cmfseg bench forward`: seconds per forward pass at one patch size.
struct BenchForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Seconds per inference forward pass at one patch size, and GFLOP/s.")

    @Option(name: .long, parsing: .upToNextOption, help: "Patch side, or D H W (multiples of 16).") var patch: [Int] = [128]
    @Option(name: .long, help: ConvolutionPrecision.help) var precision: ConvolutionPrecision = .f32
    @OptionGroup var options: BenchOptions

    func validate() throws { _ = try benchPatch(patch) }

    func run() throws {
        let dhw = try benchPatch(patch)
        let network = try options.network()
        let ctx = ForwardContext(engine: try OneDNNConvolutionEngine().with(precision: precision), threads: options.threads)
        let seconds = try options.forwardSeconds(network, spatial: dhw, ctx)
        let gflop = network.flops(spatial: dhw) / 1e9
        let patchText = dhw.map(String.init).joined(separator: "x")
        if options.json {
            options.printJSON([("architecture", "\"\(network.architecture.rawValue)\""), ("patch", "\"\(patchText)\""),
                               ("precision", "\"\(precision.rawValue)\""), ("threads", options.threads), ("seconds_per_forward", seconds), ("forward_gflop", gflop),
                               ("gflops", gflop / seconds), ("peak_rss_gib", peakResidentGiB())])
        } else {
            print("\(network.architecture.rawValue) on \(patchText), \(threadsText(options.threads)) threads: "
                  + String(cFormat: "forward %.3f s (%.1f GFLOP, %.1f GFLOP/s); peak RSS %.2f GiB",
                           seconds, gflop, gflop / seconds, peakResidentGiB()))
        }
    }
}

/// `cmfseg bench case`: a BraTS-size phantom segmented end to end, against one forward pass
/// at the window size and one at 128³ (the authors' patch, the usual yardstick) in the same run.
struct BenchCaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Seconds per whole BraTS-size case (pre-processing, windows, post-processing), and per forward at the window size and at 128³.",
        discussion: "The case is the demo's sample phantom (seed 2026, case 0, 240×240×155), in memory: no file reading or writing is timed. A window at least as large as the cropped brain (e.g. --patch 160 192 160) segments it in one network call.")

    @Option(name: .long, help: "Window overlap, in [0, 1).") var overlap: Double = 0.5
    @Option(name: .long, help: SlidingWindowOptions.Layout.help) var windows: SlidingWindowOptions.Layout = .grid
    @Option(name: .long, help: ConvolutionPrecision.help) var precision: ConvolutionPrecision = .f32
    @Option(name: .long, parsing: .upToNextOption, help: "Window side, or D H W (multiples of 16; default: the model's window).")
    var patch: [Int] = []
    @Option(name: .long, help: ArgumentHelp("Coarser case: voxels N times larger over the BraTS field of view (tests).", visibility: .hidden))
    var gridFactor: Int = 1
    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard overlap >= 0, overlap < 1 else { throw ValidationError("--overlap must be in [0, 1)") }
        guard (1...8).contains(gridFactor) else { throw ValidationError("--grid-factor must be 1–8") }
        if !patch.isEmpty { _ = try benchPatch(patch) }
    }

    func run() throws {
        let ctx = ForwardContext(engine: try OneDNNConvolutionEngine().with(precision: precision), threads: options.threads)
        let model = try SegmentationModel(network: options.network(), context: ctx)
        let grid = gridFactor == 1 ? PhantomGrid.brats : PhantomGrid.coarse(gridFactor)
        let sample = try PhantomGenerator(template: TissueTemplate.sharedMNI152(), seed: DemoCommand.sampleSeed,
                                          grid: grid, threads: options.threads).generate(index: 0)
        let input = CaseInput(volumes: sample.images)
        var segmentation = SegmentationOptions(for: model)
        segmentation.window.overlap = overlap
        segmentation.window.layout = windows
        if !patch.isEmpty, let window = Shape3(dhw: try benchPatch(patch)) { segmentation.window.patch = window }
        segmentation.threads = options.threads
        segmentation.precision = precision
        var calls = 0, window = segmentation.window.patch
        let perCase = try options.fastest {
            let timings = try model.segment(input, options: segmentation).timings
            (calls, window) = (timings.networkCalls, timings.window)
        }
        let dhw = [window.nz, window.ny, window.nx]
        let perForward = try options.forwardSeconds(model.network, spatial: dhw, ctx)
        let reference = [128, 128, 128]
        let perForward128 = dhw == reference ? perForward : try options.forwardSeconds(model.network, spatial: reference, ctx)
        let windowText = dhw.map(String.init).joined(separator: "x")
        if options.json {
            options.printJSON([("grid", "\"\(grid.shape.nx)x\(grid.shape.ny)x\(grid.shape.nz)\""), ("window", "\"\(windowText)\""), ("windows", "\"\(windows.rawValue)\""), ("overlap", overlap),
                               ("precision", "\"\(precision.rawValue)\""), ("threads", options.threads),
                               ("network_calls", calls), ("seconds_per_case", perCase), ("seconds_per_forward", perForward),
                               ("case_over_forward", perCase / perForward), ("seconds_per_forward_128", perForward128),
                               ("case_over_forward_128", perCase / perForward128), ("peak_rss_gib", peakResidentGiB())])
        } else {
            print("whole case \(grid.shape.nx)x\(grid.shape.ny)x\(grid.shape.nz), \(calls) network calls of \(windowText) "
                  + (windows == .fitted ? "(fitted), " : String(cFormat: "(overlap %.2f), ", overlap)) + "\(threadsText(options.threads)) threads: "
                  + String(cFormat: "%.2f s per case, %.2f s per forward = %.2f forwards (%.2f of 128³); peak RSS %.2f GiB",
                           perCase, perForward, perCase / perForward, perCase / perForward128, peakResidentGiB()))
        }
    }
}

/// `cmfseg bench train`: seconds per CMFF training step (forward + backward + Adam) and, in
/// the same run, seconds per inference forward pass at the same patch.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Seconds per training step (forward + backward + Adam) and per forward pass, at one patch size.",
        discussion: "Runs on random inputs and labels, with the ratio step / forward and the peak resident memory.")

    @Option(name: .long, parsing: .upToNextOption, help: "Patch side, or D H W (multiples of 16).") var patch: [Int] = [64]
    @OptionGroup var options: BenchOptions

    func validate() throws { _ = try benchPatch(patch) }

    func run() throws {
        let dhw = try benchPatch(patch)
        var network = try options.network()
        guard case .cmff = network.body else {
            throw CMFError.invalidArgument("bench train measures CMFF models; \(options.weights.joined(separator: ", ")) holds a \(network.architecture.rawValue)")
        }
        var rng = SeededRandom(seed: 7)
        let n = dhw.reduce(1, *)
        let input = Tensor(shape: [1, 4] + dhw, storage: (0..<(4 * n)).map { _ in Float(rng.normal()) })
        let labels = (0..<n).map { _ in UInt8(rng.next() % 4) }
        let ctx = ForwardContext(threads: options.threads)
        var optimizer = AdamOptimizer(options: AdamOptions(learningRate: 1e-4, weightDecay: 1e-5))
        let forward = try options.forwardSeconds(network, spatial: dhw, ctx)
        let step = try options.fastest {
            let (_, grads) = try SegmentationObjective.lossAndGradients(network, input: input, labels: labels, ctx)
            try optimizer.update(&network, gradients: grads, threads: options.threads)
        }
        let gflop = network.flops(spatial: dhw) / 1e9
        let patchText = dhw.map(String.init).joined(separator: "x")
        if options.json {
            options.printJSON([("patch", "\"\(patchText)\""), ("threads", options.threads), ("base_filters", network.baseFilters),
                               ("seconds_per_step", step), ("seconds_per_forward", forward), ("step_over_forward", step / forward),
                               ("forward_gflop", gflop), ("peak_rss_gib", peakResidentGiB())])
        } else {
            print("CMFF F=\(network.baseFilters), patch \(patchText), \(threadsText(options.threads)) threads: "
                  + String(cFormat: "training step %.3f s, forward %.3f s (%.1f GFLOP, %.1f GFLOP/s); step = %.2f × forward; peak RSS %.2f GiB",
                           step, forward, gflop, gflop / forward, step / forward, peakResidentGiB()))
        }
    }
}

private func threadsText(_ threads: Int) -> String { threads == 0 ? "default" : String(threads) }

/// Peak resident memory of this process (VmHWM), GiB.
func peakResidentGiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return .nan }
    return kb / 1_048_576
}
