import ArgumentParser
import CMFSeg
import FoundationEssentials

/// `cmfseg transfer`: the method's parameter transfer from the CMFT generators to CMFF.
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Initialise CMFF's branches from the CMFT generators (parameter transfer).",
        discussion: """
        Branch 0 (pair A: T1, T1ce) takes every tensor of G_AB (the authors' x2y) whose name and shape match, branch 1 (pair B: T2, FLAIR) those of G_BA (y2x). The generators' output layers (2 channels, not 4 classes) and the fusion layers have no counterpart: they are listed and left to the CMFF run's own initialisation. OUT holds only the transferred tensors; use it with `cmfseg train cmff --init OUT`.
        """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "G_AB and G_BA weight files (x2y, y2x).") var generators: [String]
    @Option(name: .long, help: "Output weight file (safetensors), written atomically.") var out: String
    @Flag(name: .customLong("no-mask"), help: "Transfer into the CMFF variant without mask guidance.") var noMask = false

    func validate() throws {
        guard generators.count == 2 else { throw ValidationError("--generators takes two files: G_AB (x2y) and G_BA (y2x)") }
    }

    func run() throws {
        let gAB = try WeightSet.load(paths: [generators[0]]), gBA = try WeightSet.load(paths: [generators[1]])
        let r = try ParameterTransfer.cmffInitialisation(gAB: gAB, gBA: gBA, maskGuided: !noMask)
        let entries = r.tensors.keys.sorted().map { SafeTensorsFile.Entry(name: $0, tensor: r.tensors[$0]!) }
        let meta = ["format": "cmfseg-init-1", "transferred_from": generators.joined(separator: ", "),
                    "producer": "cmfseg \(CMFSegVersion.string) transfer"]
        try SafeTensorsFile(entries: entries, metadata: meta).write(to: out)
        print("copied \(r.copied.count) tensors: net_0.* from \(generators[0]), net_1.* from \(generators[1])")
        print("left to the CMFF initialisation (\(r.leftInitial.count)): \(r.leftInitial.joined(separator: ", "))")
        print("wrote \(out)")
    }
}
