import CMFSegABI
import Foundation
import TestSupport
import XCTest

/// Threads through the public header: several model handles and several threads at once
/// give what a serial run gives, evaluations in parallel equal serial ones, and a cancel
/// flag set by another thread stops a running segmentation inside its network call.
/// Also run under ThreadSanitizer (Tests/Fuzz/README.md).
final class ConcurrencyTests: XCTestCase {
    var lastError: String { String(cString: cmf_last_error_message()) }

    func loadModel() throws -> OpaquePointer {
        let paths = SyntheticCase.m2gWeights.map { strdup($0) }
        defer { paths.forEach { free($0) } }
        var ptrs = paths.map { UnsafePointer<CChar>($0) }
        var model: OpaquePointer?
        let rc = ptrs.withUnsafeMutableBufferPointer { cmf_model_load($0.baseAddress, 3, &model) }
        XCTAssertEqual(rc, CMF_OK, lastError)
        return try XCTUnwrap(model)
    }

    final class Slots<T>: @unchecked Sendable {
        private var values: [T?]
        private let lock = NSLock()
        init(_ n: Int) { values = [T?](repeating: nil, count: n) }
        subscript(i: Int) -> T? {
            get { lock.lock(); defer { lock.unlock() }; return values[i] }
            set { lock.lock(); values[i] = newValue; lock.unlock() }
        }
    }

    func testSeveralModelsAndThreadsAgreeWithASerialRun() throws {
        let models = [try loadModel(), try loadModel()]
        defer { models.forEach { cmf_model_free($0) } }
        let vols = (0..<4).map { SegmentTests.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        let n = SegmentTests.nx * SegmentTests.ny * SegmentTests.nz
        @Sendable func run(_ model: OpaquePointer?, _ v: [OpaquePointer?]) -> [Float]? {
            var p = cmf_segment_default_params()
            p.patch = (32, 32, 32)
            p.threads = 1
            var out: OpaquePointer?
            guard cmf_segment(model, v[0], v[1], v[2], v[3], &p, &out, nil, nil) == CMF_OK else { return nil }
            defer { cmf_volume_free(out) }
            return Array(UnsafeBufferPointer(start: cmf_volume_data(out), count: n))
        }
        let expected = try XCTUnwrap(run(models[0], vols))
        let results = Slots<[Float]>(4)
        nonisolated(unsafe) let shared = (models, vols)
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            results[i] = run(shared.0[i % 2], shared.1)
        }
        for i in 0..<4 { XCTAssertEqual(results[i], expected, "thread \(i)") }
    }

    func testEvaluationsInParallelEqualSerialOnes() throws {
        let pairs = ["step0200", "step11800", "step29800", "step0600"]
        @Sendable func evaluate(_ name: String) -> cmf_eval_result? {
            var r = cmf_eval_result()
            r.struct_size = UInt32(MemoryLayout<cmf_eval_result>.size)
            let rc = cmf_evaluate_files(Fixtures.path("brats-labels/\(name)_ref.nii.gz"),
                                        Fixtures.path("brats-labels/\(name)_pred.nii.gz"), nil, &r)
            return rc == CMF_OK ? r : nil
        }
        let serial = pairs.map(evaluate)
        let results = Slots<cmf_eval_result>(2 * pairs.count)
        DispatchQueue.concurrentPerform(iterations: 2 * pairs.count) { i in
            results[i] = evaluate(pairs[i % pairs.count])
        }
        for i in 0..<(2 * pairs.count) {
            let a = try XCTUnwrap(serial[i % pairs.count]), b = try XCTUnwrap(results[i])
            XCTAssertEqual(withUnsafeBytes(of: a) { Array($0) }, withUnsafeBytes(of: b) { Array($0) }, pairs[i % pairs.count])
        }
    }

    func testCancelFromAnotherThreadStopsInsideTheNetwork() throws {
        let model = try SegmentTests.model()
        let vols = (0..<4).map { SegmentTests.volume($0) }
        defer { vols.forEach { cmf_volume_free($0) } }
        final class Run: @unchecked Sendable {
            let started = DispatchSemaphore(value: 0)
            let flagSet = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)   // orders the worker's writes before the checks
            let flag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
            var reports: [Float] = []
            var status = CMF_OK
            var labels: OpaquePointer?
            init() { flag.initialize(to: 0) }
            deinit { flag.deallocate() }
        }
        let run = Run()
        nonisolated(unsafe) let shared = (model, vols)
        let worker = Thread {
            var p = cmf_segment_default_params()
            p.patch = (32, 32, 32)
            p.threads = 1
            p.cancel = UnsafePointer(run.flag)
            p.user_data = Unmanaged.passUnretained(run).toOpaque()
            p.progress = { f, user in
                let r = Unmanaged<Run>.fromOpaque(user!).takeUnretainedValue()
                r.reports.append(f)
                if r.reports.count == 2 {   // the first window is done: let the host cancel now
                    r.started.signal()
                    r.flagSet.wait()
                }
                return 1
            }
            var out: OpaquePointer?
            run.status = cmf_segment(shared.0, shared.1[0], shared.1[1], shared.1[2], shared.1[3], &p, &out, nil, nil)
            run.labels = out
            run.finished.signal()
        }
        worker.start()
        XCTAssertEqual(run.started.wait(timeout: .now() + 600), .success)
        run.flag.pointee = 1   // as a host thread would
        run.flagSet.signal()
        XCTAssertEqual(run.finished.wait(timeout: .now() + 600), .success)
        XCTAssertEqual(run.status, CMF_ERR_ABORTED)
        XCTAssertNil(run.labels)
        // stopped inside the next network call: no window finished after the flag was set
        XCTAssertEqual(run.reports.count, 2, "\(run.reports)")
    }
}
