import Dispatch
import FoundationEssentials
import Synchronization

/// Batch evaluation of a cohort: reference and prediction files paired by case name,
/// evaluated in parallel (cases across threads), written as one CSV.
///
/// Pairing rule. Files are the `.nii` / `.nii.gz` files directly inside each directory
/// (hidden files skipped). A file's case name is its name without the extension and
/// without one trailing role suffix:
/// - references: `_ref`, `-ref`, `_gt`, `-gt`, `_seg`, `-seg` (BraTS ships
///   `BraTS-GLI-00000-000-seg.nii.gz`);
/// - predictions: `_pred`, `-pred`, `_seg`, `-seg`.
/// Files in the reference directory ending in a prediction-only suffix (`_pred`, `-pred`)
/// and files in the prediction directory ending in a reference-only suffix (`_ref`, `-ref`,
/// `_gt`, `-gt`) are not considered, so one directory can hold both (`step0200_ref.nii.gz`
/// pairs with `step0200_pred.nii.gz`; `BraTS-GLI-00000-000-seg.nii.gz` with
/// `BraTS-GLI-00000-000.nii.gz`). Two files of one side with the same case name, or a
/// reference without a prediction, are errors; predictions without a reference are skipped
/// (reported through `skippedPredictions`).
public struct CohortEvaluation: Sendable {
    public struct Pair: Sendable, Equatable {
        public var name: String
        public var reference: String
        public var prediction: String
    }

    public var pairs: [Pair]
    /// Prediction files that have no reference (not evaluated).
    public var skippedPredictions: [String]

    static let referenceSuffixes = ["_ref", "-ref", "_gt", "-gt", "_seg", "-seg"]
    static let predictionSuffixes = ["_pred", "-pred", "_seg", "-seg"]
    static let predictionOnly = ["_pred", "-pred"]
    static let referenceOnly = ["_ref", "-ref", "_gt", "-gt"]

    /// Pairs the files of two directories by the rule above.
    /// - Throws: `CMFError.io` for an unreadable directory, `.invalidArgument` for an
    ///   ambiguous case name, a reference without prediction, or no reference at all.
    public init(referenceDirectory: String, predictionDirectory: String) throws {
        let refs = try Self.cases(in: referenceDirectory, suffixes: Self.referenceSuffixes,
                                  excluding: Self.predictionOnly, role: "reference")
        let preds = try Self.cases(in: predictionDirectory, suffixes: Self.predictionSuffixes,
                                   excluding: Self.referenceOnly, role: "prediction")
        guard !refs.isEmpty else {
            throw CMFError.invalidArgument("no reference label maps (.nii, .nii.gz) in \(referenceDirectory)")
        }
        let missing = refs.keys.filter { preds[$0] == nil }.sorted()
        if !missing.isEmpty {
            let list = missing.prefix(5).map { refs[$0]! }.joined(separator: ", ")
            throw CMFError.invalidArgument("\(missing.count) reference(s) without a prediction in \(predictionDirectory): \(list)\(missing.count > 5 ? ", ..." : "")")
        }
        pairs = refs.keys.sorted().map { Pair(name: $0, reference: refs[$0]!, prediction: preds[$0]!) }
        skippedPredictions = preds.keys.filter { refs[$0] == nil }.sorted().map { preds[$0]! }
    }

    /// The case name of a file name, or nil when it is not a NIfTI file of that role.
    static func caseName(_ file: String, suffixes: [String], excluding: [String]) -> String? {
        var stem: Substring
        if file.hasSuffix(".nii.gz") { stem = file.dropLast(7) } else if file.hasSuffix(".nii") { stem = file.dropLast(4) } else { return nil }
        if file.hasPrefix(".") || stem.isEmpty { return nil }
        if excluding.contains(where: { stem.hasSuffix($0) }) { return nil }
        if let s = suffixes.first(where: { stem.hasSuffix($0) && stem.count > $0.count }) { stem = stem.dropLast(s.count) }
        return String(stem)
    }

    static func cases(in directory: String, suffixes: [String], excluding: [String], role: String) throws -> [String: String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw CMFError.io("cannot list \(role) directory \(directory): \(CMFError.reason(error))")
        }
        var map: [String: String] = [:]
        for file in names.sorted() {
            guard let name = caseName(file, suffixes: suffixes, excluding: excluding) else { continue }
            let path = FilePaths.join(directory, file)
            if let other = map[name] {
                throw CMFError.invalidArgument("\(role)s \(other) and \(path) both name case \(name)")
            }
            map[name] = path
        }
        return map
    }

    /// What a batch run produced, with where its time went.
    public struct Report: Sendable {
        public var results: [EvaluationResult]
        /// Per case, in `pairs` order: seconds spent reading (inflating, converting) the two
        /// label maps, and seconds spent computing the metrics.
        public var readSeconds: [Double]
        public var metricSeconds: [Double]
    }

    /// Evaluates every pair, `workers` cases at a time (kernels single-threaded inside a
    /// case), then writes the CSV atomically (`EvaluationResult.csvHeader`, one row per case
    /// and region, cases in name order). `progress(done, total, name)` is called after each
    /// case, from worker threads, one call at a time.
    /// - Throws: the first error in case order (naming its file); the CSV is then not written.
    @discardableResult
    public func run(options: EvaluationOptions, workers: Int, csvPath: String,
                    progress: @escaping @Sendable (Int, Int, String) -> Void) throws -> Report {
        let csvDirectory = FilePaths.parent(csvPath)
        let dir = csvDirectory.isEmpty ? "." : csvDirectory
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory,
              FileManager.default.isWritableFile(atPath: dir) else {
            throw CMFError.io("cannot write \(csvPath): \(dir) is not a writable directory")
        }
        try options.validate()
        var perCase = options
        perCase.threads = 1
        let evaluator = BraTSEvaluator(options: perCase)
        let pairs = self.pairs
        // Largest files first (they tend to take longest), so no worker is left with a slow
        // case at the end; results keep the pairs' order.
        func size(_ path: String) -> Int { (try? FileBytes.regularFileSize(path)) ?? 0 }
        let order = pairs.indices.sorted {
            (size(pairs[$0].reference) + size(pairs[$0].prediction), $1) > (size(pairs[$1].reference) + size(pairs[$1].prediction), $0)
        }
        let store = ResultStore(count: pairs.count)
        let n = max(1, min(workers, pairs.count))
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            while let k = store.next() {
                let i = order[k]
                let p = pairs[i]
                let t0 = DispatchTime.now().uptimeNanoseconds
                var t1 = t0
                let r = Result { () throws -> EvaluationResult in
                    let ref = try Nifti.readLabels(p.reference, limits: evaluator.options.limits)
                    let pred = try Nifti.readLabels(p.prediction, limits: evaluator.options.limits)
                    t1 = DispatchTime.now().uptimeNanoseconds
                    return try evaluator.evaluate(reference: ref, prediction: pred,
                                                  referenceName: p.reference, predictionName: p.prediction)
                }
                let t2 = DispatchTime.now().uptimeNanoseconds
                let done = store.put(i, r, read: Double(t1 - t0) / 1e9, metrics: Double(t2 - t1) / 1e9)
                store.locked { progress(done, pairs.count, p.name) }
            }
        }
        let stored = store.contents
        var results: [EvaluationResult] = []
        for (i, r) in stored.results.enumerated() {
            switch r {
            case .success(let v)?: results.append(v)
            case .failure(let e)?: throw e
            case nil: throw CMFError.internal("case \(pairs[i].name) was not evaluated")
            }
        }
        var csv = EvaluationResult.csvHeader + "\n"
        for (p, r) in zip(pairs, results) {
            for row in r.csvRows(case: p.name) { csv += row + "\n" }
        }
        try AtomicFile.write([(path: csvPath, content: .bytes(Array(csv.utf8)))])
        return Report(results: results, readSeconds: stored.readSeconds, metricSeconds: stored.metricSeconds)
    }
}

/// Results of parallel workers, behind a lock.
final class ResultStore: Sendable {
    struct State {
        var cursor = 0
        var finished = 0
        var results: [Result<EvaluationResult, Error>?]
        var readSeconds: [Double]
        var metricSeconds: [Double]
    }
    private let state: Mutex<State>
    private let progressLock = Mutex(())

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count),
                            readSeconds: Array(repeating: 0, count: count),
                            metricSeconds: Array(repeating: 0, count: count)))
    }

    /// Everything stored so far.
    var contents: State { state.withLock { $0 } }

    func next() -> Int? {
        state.withLock { s in
            guard s.cursor < s.results.count else { return nil }
            s.cursor += 1
            return s.cursor - 1
        }
    }

    func put(_ i: Int, _ r: Result<EvaluationResult, Error>, read: Double, metrics: Double) -> Int {
        state.withLock { s in
            s.results[i] = r
            s.readSeconds[i] = read
            s.metricSeconds[i] = metrics
            s.finished += 1
            return s.finished
        }
    }

    func locked(_ body: () -> Void) {
        progressLock.withLock { _ in body() }
    }
}
