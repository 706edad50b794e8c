import ArgumentParser
import CMFSeg
import FoundationEssentials
import Glibc

extension LabelConvention: ExpressibleByArgument {}

/// `cmfseg evaluate`: BraTS metrics of predictions against references, for one case
/// (`--ref`, `--pred`; a table or `--json` on stdout) or a cohort (`--ref-dir`, `--pred-dir`,
/// `--csv`; one CSV row per case and region, progress on stderr, the cohort means on stdout).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "BraTS metrics (Dice, HD95, sensitivity, specificity, HD, ASSD, volumes, NSD, lesion-wise) of predictions against references.",
        discussion: """
        Whole-region metrics follow MedPy 0.5 / panoptica, lesion-wise metrics the official \
        BraTS evaluation (panoptica): 26-connected lesions, one-to-one matching on Dice >= 1e-6.

        Batch mode pairs the .nii/.nii.gz files of --ref-dir and --pred-dir by case name: the \
        file name without extension and without one role suffix (references: _ref -ref _gt -gt \
        _seg -seg; predictions: _pred -pred _seg -seg). Files ending _pred in the reference \
        directory and _ref/_gt in the prediction directory are ignored, so one directory may \
        hold both. Every reference needs a prediction.

        JSON has no NaN or infinity: such values are written as null (CSV: nan, inf).
        """)

    @Option(help: "Reference label map (.nii, .nii.gz).") var ref: String?
    @Option(help: "Predicted label map.") var pred: String?
    @Option(name: .customLong("ref-dir"), help: "Batch mode: directory of reference label maps.") var refDir: String?
    @Option(name: .customLong("pred-dir"), help: "Batch mode: directory of predicted label maps.") var predDir: String?
    @Option(help: "Batch mode: CSV file to write (atomically).") var csv: String?
    @Option(help: "Label convention: brats2018 (1/2/4, default) or brats2023 (1/2/3).") var labels: LabelConvention = .brats2018
    @Flag(help: "Single case: print JSON instead of a table.") var json = false
    @Option(name: .customLong("nsd-tolerance"), help: "NSD tolerance in mm (default: the smallest voxel spacing).") var nsdTolerance: Double?
    @Option(name: .customLong("empty-hd"), help: "HD95/HD/ASSD when exactly one mask is empty: diagonal (default), inf, nan or a number of mm.") var emptyHD: String = "diagonal"
    @Flag(name: .customLong("ignore-geometry"), help: "Compare maps whose spacing or affine differ (dims must agree; the reference's spacing is used).") var ignoreGeometry = false
    @Flag(help: "Batch mode: also print where the time went (reading vs metrics) on stderr.") var timing = false
    @Option(help: "Threads: for one case, the kernels' threads; in batch mode, cases evaluated at once (default: all cores).") var threads: Int?
    @OptionGroup var limits: LimitOptions

    func validate() throws {
        let single = ref != nil || pred != nil
        let batch = refDir != nil || predDir != nil || csv != nil
        if single == batch {
            throw ValidationError("give either --ref and --pred, or --ref-dir, --pred-dir and --csv")
        }
        if single && (ref == nil || pred == nil) { throw ValidationError("--ref and --pred go together") }
        if batch && (refDir == nil || predDir == nil || csv == nil) {
            throw ValidationError("batch mode needs --ref-dir, --pred-dir and --csv")
        }
        if batch && json { throw ValidationError("--json is for a single case; batch mode writes --csv") }
        if let t = nsdTolerance, !(t.isFinite && t >= 0) { throw ValidationError("--nsd-tolerance must be a number of mm >= 0") }
        if EmptyDistancePolicy(parsing: emptyHD) == nil {
            throw ValidationError("--empty-hd must be diagonal, inf, nan or a number, not '\(emptyHD)'")
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be >= 1") }
    }

    func run() throws {
        try limits.apply()
        var options = EvaluationOptions(labels: labels, nsdToleranceMM: nsdTolerance,
                                        emptyDistance: EmptyDistancePolicy(parsing: emptyHD) ?? .diagonal,
                                        ignoreGeometry: ignoreGeometry, threads: threads ?? 0)
        if let ref, let pred {
            let result = try BraTSEvaluator(options: options).evaluate(referencePath: ref, predictionPath: pred)
            print(json ? result.json() : result.text())
            return
        }
        guard let refDir, let predDir, let csv else { return }
        let cohort = try CohortEvaluation(referenceDirectory: refDir, predictionDirectory: predDir)
        for skipped in cohort.skippedPredictions {
            writeStandardError("cmfseg: note: \(skipped) has no reference; skipped\n")
        }
        options.threads = 1
        let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let start = Date()
        // On a terminal the progress line rewrites itself; in a log it is one line per case.
        let tty = isatty(2) != 0
        let report = try cohort.run(options: options, workers: workers, csvPath: csv) { done, total, name in
            let line = "[\(done)/\(total)] \(name)"
            writeStandardError(tty ? "\r\(line)\u{1B}[K" : "\(line)\n")
        }
        let seconds = Date().timeIntervalSince(start)
        let n = Double(max(1, cohort.pairs.count))
        writeStandardError("\(tty ? "\r\u{1B}[K" : "")evaluated \(cohort.pairs.count) cases in "
                           + String(cFormat: "%.3f s (%.1f ms/case wall, ", seconds, 1000 * seconds / n) + "\(workers) workers) -> \(csv)\n")
        print(CohortSummary(report.results).text)
        if timing {
            let read = report.readSeconds.reduce(0, +), metrics = report.metricSeconds.reduce(0, +)
            writeStandardError(String(cFormat: "timing: per case (one worker's time): read %.1f ms (two label maps), metrics %.1f ms; slowest metrics %.1f ms\n",
                                      1000 * read / n, 1000 * metrics / n, 1000 * (report.metricSeconds.max() ?? 0)))
        }
    }
}
