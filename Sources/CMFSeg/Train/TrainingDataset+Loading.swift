import Dispatch
import FoundationEssentials
import Synchronization

extension TrainingDataset {
    /// Loads every case folder in `folder` (its sub-folders, in name order; see ``CaseFolder``
    /// for the file names: `<case>/<case>_{t1,t1ce,t2,flair,seg}.nii.gz` as BraTS and
    /// `cmfseg phantom` write them).
    ///
    /// Each case goes through ``Preprocessor/run(_:modalities:options:minimumSize:sizeMultiple:)``
    /// with `preprocess` — the very function inference calls — so training and inference see the
    /// same normalisation. Its label map is cropped with the same box and zero-padded to the same
    /// grid, and mapped to class indices (label `classValues[k]` → class k).
    ///
    /// Every case is checked before anything is returned, in two rounds: first the files and
    /// their headers (cheap: a missing file or a grid mismatch fails within seconds), then the
    /// voxels. All refused cases are reported together.
    /// - Parameters:
    ///   - modalities: channel order; each case must have these files.
    ///   - classValues: label value of each network class, background 0 first (BraTS 2017–2022
    ///     [0, 2, 1, 4]; BraTS 2023 [0, 2, 1, 3]). Any other value in a label map is an error.
    ///   - minimumSize: the patch size; every case is padded to at least this size.
    ///   - storage: float32, or float16 for half the image memory.
    ///   - threads: cases loaded at once (≤ 0: one per core). Each holds its full-size volumes
    ///     (about 180 MB for a 240×240×155 case) while it is prepared.
    ///   - progress: called as `(done, total, case name)` after each case, one call at a time.
    /// - Throws: `CMFError.invalidArgument` (no case folder, missing modality or label file,
    ///   non-finite voxels, empty or constant image, bad arguments), `.shape` (the files of a
    ///   case on different grids), `.format` (a label value not in `classValues`, unreadable
    ///   file), `.io`; each message names the case and the file. When several cases are
    ///   refused, the error is the first one's kind and the message lists them all.
    public static func load(folder: String, modalities: [Modality] = [.t1, .t1ce, .t2, .flair],
                            classValues: [Int] = [0, 2, 1, 4], preprocess: PreprocessOptions = PreprocessOptions(),
                            minimumSize: Shape3, storage: Storage = .float32, threads: Int = 0,
                            progress: (@Sendable (Int, Int, String) -> Void)? = nil) throws -> TrainingDataset {
        try load(folders: [folder], modalities: modalities, classValues: classValues, preprocess: preprocess,
                 minimumSize: minimumSize, storage: storage, threads: threads, progress: progress)
    }

    /// ``load(folder:modalities:classValues:preprocess:minimumSize:storage:threads:progress:)``
    /// over the case folders of several folders (BraTS 2018 ships `HGG/` and `LGG/`), cases in
    /// name order; case names must be unique.
    public static func load(folders: [String], modalities: [Modality] = [.t1, .t1ce, .t2, .flair],
                            classValues: [Int] = [0, 2, 1, 4], preprocess: PreprocessOptions = PreprocessOptions(),
                            minimumSize: Shape3, storage: Storage = .float32, threads: Int = 0,
                            progress: (@Sendable (Int, Int, String) -> Void)? = nil) throws -> TrainingDataset {
        try validateClassValues(classValues)
        try preprocess.validate()
        guard !modalities.isEmpty, Set(modalities).count == modalities.count else {
            throw CMFError.invalidArgument("modalities \(modalities.map(\.rawValue)) must be distinct and at least one")
        }
        guard minimumSize.nx >= 1, minimumSize.ny >= 1, minimumSize.nz >= 1 else {
            throw CMFError.invalidArgument("minimum size \(minimumSize) must be positive")
        }
        guard !folders.isEmpty else { throw CMFError.invalidArgument("no training folder given") }

        // Round 0: the case folders.
        var paths: [String] = []
        for f in folders { paths += try CaseFolder.folders(in: f) }
        guard !paths.isEmpty else {
            throw CMFError.invalidArgument("no case folder in \(folders.joined(separator: ", ")): expected one sub-folder per case holding <case>_{t1,t1ce,t2,flair,seg}.nii.gz")
        }
        let caseFolders = try paths.map { try CaseFolder($0) }.sorted { $0.name < $1.name }
        for (a, b) in zip(caseFolders, caseFolders.dropFirst()) where a.name == b.name {
            throw CMFError.invalidArgument("two case folders are named \(a.name): \(a.path) and \(b.path)")
        }

        // Round 1: files and headers.
        let workers = max(1, min(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount, caseFolders.count))
        let checked = parallelMap(caseFolders, workers: workers) { c in
            try checkFiles(c, modalities: modalities)
        }
        try refuseFailures(caseFolders, checked)

        // Round 2: voxels.
        let done = ProgressCounter(total: caseFolders.count, report: progress)
        let loaded = parallelMap(caseFolders, workers: workers) { c in
            defer { done.step(c.name) }
            return try loadCase(c, modalities: modalities, classValues: classValues, preprocess: preprocess,
                                minimumSize: minimumSize, storage: storage)
        }
        try refuseFailures(caseFolders, loaded)
        return try TrainingDataset(cases: loaded.map { try $0.get() }, modalities: modalities,
                                   classValues: classValues, storage: storage)
    }

    // MARK: One case

    /// The files the case needs exist, and their headers are readable and on one grid.
    static func checkFiles(_ c: CaseFolder, modalities: [Modality]) throws {
        var items: [(name: String, shape: Shape3, geometry: Geometry)] = []
        for m in modalities {
            guard let p = c.images[m] else {
                throw CMFError.invalidArgument("no \(m.rawValue) image \(c.expectedFile(m.rawValue)) in \(c.path)")
            }
            let h = try Nifti.readHeader(p)
            items.append((p, h.shape, h.geometry))
        }
        guard let seg = c.seg else {
            throw CMFError.invalidArgument("no label map \(c.expectedFile("seg")) in \(c.path)")
        }
        let h = try Nifti.readHeader(seg)
        items.append((seg, h.shape, h.geometry))
        try Nifti.requireSameGrid(items)
    }

    static func loadCase(_ c: CaseFolder, modalities: [Modality], classValues: [Int], preprocess: PreprocessOptions,
                         minimumSize: Shape3, storage: Storage) throws -> TrainingCase {
        var paths: [Modality: String] = [:]
        for m in modalities { paths[m] = c.images[m] }
        guard let segPath = c.seg else { throw CMFError.invalidArgument("no label map \(c.expectedFile("seg")) in \(c.path)") }
        return try TrainingCase(name: c.name, input: try CaseInput(files: paths), labels: try Nifti.readLabels(segPath),
                                labelSource: segPath, modalities: modalities, classValues: classValues,
                                preprocess: preprocess, minimumSize: minimumSize, storage: storage)
    }

    // MARK: Errors and workers

    /// Throws when any case failed: a single failure as itself with the case named, several
    /// as the first one's kind with all messages.
    static func refuseFailures<T>(_ cases: [CaseFolder], _ results: [Result<T, Error>]) throws {
        var failures: [(name: String, error: Error)] = []
        for (c, r) in zip(cases, results) {
            if case .failure(let e) = r { failures.append((c.name, e)) }
        }
        guard let first = failures.first else { return }
        let shown = 3
        var message = failures.prefix(shown).map { "case \($0.name): \(describe($0.error))" }.joined(separator: "; ")
        if failures.count > 1 {
            let more = failures.dropFirst(shown).map(\.name)
            if !more.isEmpty { message += "; and \(more.count) more: \(more.prefix(20).joined(separator: ", "))\(more.count > 20 ? ", ..." : "")" }
            message += " (\(failures.count) of \(cases.count) cases refused)"
        }
        throw retitled(first.error, message)
    }

    static func describe(_ e: Error) -> String {
        (e as? CMFError)?.message ?? "\(e)"
    }

    /// The same kind of error with another message.
    static func retitled(_ e: Error, _ message: String) -> CMFError {
        switch e as? CMFError {
        case .invalidArgument?: return .invalidArgument(message)
        case .io?: return .io(message)
        case .format?: return .format(message)
        case .shape?: return .shape(message)
        case .outOfMemory?: return .outOfMemory(message)
        case .aborted?: return .aborted(message)
        case .unsupported?: return .unsupported(message)
        case .internal?, nil: return .internal(message)
        }
    }

    /// `body` over `items` on `workers` threads, results in item order.
    static func parallelMap<T, R>(_ items: [T], workers: Int, _ body: @escaping @Sendable (T) throws -> R) -> [Result<R, Error>]
        where T: Sendable, R: Sendable {
        let box = ResultBox<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, items.count))) { _ in
            while let i = box.claim() {
                box.put(i, Result { try body(items[i]) })
            }
        }
        return box.take()
    }
}

/// Results of `parallelMap`'s workers, behind a lock.
private final class ResultBox<R: Sendable>: Sendable {
    private struct State {
        var cursor = 0
        var results: [Result<R, Error>?]
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count))) }

    func claim() -> Int? {
        state.withLock { s in
            guard s.cursor < s.results.count else { return nil }
            s.cursor += 1
            return s.cursor - 1
        }
    }

    func put(_ i: Int, _ r: Result<R, Error>) {
        state.withLock { $0.results[i] = r }
    }

    func take() -> [Result<R, Error>] {
        state.withLock { s in s.results.map { $0 ?? .failure(CMFError.internal("a case was not processed")) } }
    }
}

/// Counts finished cases and reports them one call at a time.
private final class ProgressCounter: Sendable {
    private let done = Mutex(0)
    private let total: Int
    private let report: (@Sendable (Int, Int, String) -> Void)?

    init(total: Int, report: (@Sendable (Int, Int, String) -> Void)?) {
        self.total = total
        self.report = report
    }

    func step(_ name: String) {
        done.withLock { done in
            done += 1
            report?(done, total, name)
        }
    }
}
