import ArgumentParser
import CMFSeg

/// `cmfseg bench-nifti FILE...`: how long reading NIfTI files takes, nifticlib's reader
/// against cmfseg's. Prints milliseconds; meant for release builds.
struct BenchNiftiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-nifti",
        abstract: "Time NIfTI reading (nifticlib vs cmfseg's libdeflate path).",
        shouldDisplay: false)

    @Argument(help: "NIfTI files to read.") var files: [String]
    @Option(name: .customLong("repeat"), help: "Repetitions per way (median and best are printed).") var repeats: Int = 11

    func run() throws {
        for file in files {
            print(file)
            for row in try NiftiBenchmark.run(file, repeats: repeats) {
                print("  \(row.name.padded(toWidth: 54)) median \(String(cFormat: "%7.2f", row.medianMs)) ms   best \(String(cFormat: "%7.2f", row.bestMs)) ms   first \(String(cFormat: "%7.2f", row.firstMs)) ms")
            }
        }
    }
}
