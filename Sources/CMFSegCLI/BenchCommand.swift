import ArgumentParser
import CMFSeg
import Foundation

/// `cmfseg bench`: benchmarks that print numbers (never assertions).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the network: training steps against forward passes.",
        subcommands: [BenchTrainCommand.self]
    )
}

/// `cmfseg bench train`: seconds per CMFF training step (forward + backward + Adam) and, in
/// the same run, seconds per inference forward pass at the same patch.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Seconds per training step (forward + backward + Adam) and per forward pass, at one patch size.",
        discussion: """
        Runs on random inputs and labels with a CMFF model of the given width (fresh PyTorch-default initialisation), or with --weights. Each measurement is repeated --repeat times after one warm-up and the fastest is reported, together with the ratio step / forward and the peak resident memory.
        """
    )

    @Option(name: .long, help: "Patch side (a multiple of 16).") var patch: Int = 64
    @Option(name: .long, help: "Worker threads (0: OpenMP's default).") var threads: Int = 0
    @Option(name: .long, help: "Timed repetitions of each measurement.") var `repeat`: Int = 3
    @Option(name: .customLong("base-filters"), help: "Base width F of the random model.") var baseFilters: Int = 16
    @Option(name: .long, parsing: .upToNextOption, help: "Weights instead of a random model.") var weights: [String] = []
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    func validate() throws {
        guard patch > 0, patch % 16 == 0, patch <= 256 else { throw ValidationError("--patch must be a positive multiple of 16, at most 256") }
        guard `repeat` >= 1, threads >= 0, baseFilters >= 1 else { throw ValidationError("--repeat, --threads and --base-filters must be positive") }
    }

    func run() throws {
        ProcessMemory.keepFreedMemory()
        var network = weights.isEmpty
            ? try Network.random(.cmffM2G, inChannels: 2, classes: 4, baseFilters: baseFilters, seed: 1)
            : try Network.load(paths: weights)
        guard case .cmff = network.body else { throw CMFError.invalidArgument("bench train measures CMFF models; \(weights.joined(separator: ", ")) holds a \(network.architecture.rawValue)") }
        var rng = SeededRandom(seed: 7)
        let n = patch * patch * patch
        let input = Tensor(shape: [1, 4, patch, patch, patch], storage: (0..<(4 * n)).map { _ in Float(rng.normal()) })
        let labels = (0..<n).map { _ in UInt8(rng.next() % 4) }
        let ctx = ForwardContext(threads: threads)
        var optimizer = AdamOptimizer(options: AdamOptions(learningRate: 1e-4, weightDecay: 1e-5))

        func best(_ body: () throws -> Void) rethrows -> Double {
            try body()   // warm-up: primitive creation, first-touch allocation
            var b = Double.infinity
            for _ in 0..<`repeat` {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                b = min(b, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return b
        }
        guard case .cmff(let m) = network.body else { return }
        let x0 = try input.channels(0..<2), x1 = try input.channels(2..<4)
        let forward = try best { _ = try m.forward(x0, x1, ctx) }
        let step = try best {
            let (_, grads) = try SegmentationObjective.lossAndGradients(network, input: input, labels: labels, ctx)
            try optimizer.update(&network, gradients: grads, threads: threads)
        }
        let gflop = network.flops(spatial: [patch, patch, patch]) / 1e9
        let rss = peakResidentGiB()
        if json {
            print("{\"patch\": \(patch), \"threads\": \(threads), \"base_filters\": \(network.baseFilters), \"seconds_per_step\": \(step), \"seconds_per_forward\": \(forward), \"step_over_forward\": \(step / forward), \"forward_gflop\": \(gflop), \"peak_rss_gib\": \(rss)}")
        } else {
            print(String(format: "CMFF F=%d, patch %d³, %@ threads: training step %.3f s, forward %.3f s (%.1f GFLOP, %.1f GFLOP/s); step = %.2f × forward; peak RSS %.2f GiB",
                         network.baseFilters, patch, threads == 0 ? "default" : String(threads), step, forward, gflop, gflop / forward, step / forward, rss))
        }
    }
}

/// Peak resident memory of this process (VmHWM), GiB.
func peakResidentGiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return .nan }
    return kb / 1_048_576
}
