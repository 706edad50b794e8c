import ArgumentParser
import CMFSeg

/// `--max-voxels` and `--max-memory`: the process's ``ResourceLimits`` for one command.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-voxels"), help: ArgumentHelp(
        "Refuse images of more voxels (default: \(ResourceLimits.voxelsVariable), else 512³).", valueName: "count"))
    var maxVoxels: String?
    @Option(name: .customLong("max-memory"), help: ArgumentHelp(
        "Refuse work estimated to need more memory, e.g. 8G or 512M (default: \(ResourceLimits.memoryVariable), else the machine's memory).",
        valueName: "size"))
    var maxMemory: String?

    func validate() throws {
        do { _ = try limits() } catch let error as CMFError { throw ValidationError(error.message) }
    }

    /// Makes the flags the process's limits (for every read and call of the command).
    func apply() throws {
        if maxVoxels != nil || maxMemory != nil { ResourceLimits.setProcessDefault(try limits()) }
    }

    private func limits() throws -> ResourceLimits {
        var limits = try ResourceLimits.current()
        if let maxVoxels { limits.maxVoxels = try ResourceLimits.parse(maxVoxels, name: "--max-voxels", sizes: false) }
        if let maxMemory { limits.maxBytes = try ResourceLimits.parse(maxMemory, name: "--max-memory", sizes: true) }
        return limits
    }
}
