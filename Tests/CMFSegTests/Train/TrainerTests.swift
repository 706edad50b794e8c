@testable import CMFSeg
import TestSupport
import XCTest

/// The training loop on tiny phantoms (3 mm grid, F = 4, 32³ patches): the loss falls,
/// a resumed run equals an uninterrupted one bit for bit, and a bad data folder is refused
/// before training starts.
final class TrainerTests: XCTestCase {
    /// Two coarse MNI phantom cases written once for the whole class.
    static let data = TinyPhantoms.folder(seed: 5)

    func configuration(steps: Int, out: URL) throws -> TrainingConfiguration {
        var c = TrainingConfiguration(dataFolder: try XCTUnwrap(Self.data).path, outputFolder: out.path)
        c.patch = Shape3(32, 32, 32)
        c.baseFilters = 4
        c.steps = steps
        c.seed = 11
        c.threads = 2
        c.checkpointEvery = 1000
        return c
    }

    func testLossFallsOnTinyPhantoms() throws {
        let out = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var c = try configuration(steps: 150, out: out)
        c.adam.learningRate = 1e-3
        c.augmentation = .none
        let trainer = try Trainer(c)
        var losses: [Double] = []
        try trainer.run(report: { if case .step(let r) = $0 { losses.append(r.values["loss"] ?? .nan) } })
        XCTAssertEqual(losses.count, 150)
        let first = losses.prefix(25).reduce(0, +) / 25, last = losses.suffix(25).reduce(0, +) / 25
        print("mean loss of the first 25 steps \(first), of the last 25 \(last)")
        XCTAssertLessThan(last, first - 0.1)
        // The outputs load as a segmentation model.
        let model = try SegmentationModel(weightPaths: [trainer.modelPath])
        XCTAssertEqual(model.architecture, .cmffM2G)
        XCTAssertEqual(model.network.metadata["training_steps"], "150")
        let log = try String(contentsOfFile: trainer.logPath, encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 151)
    }

    func testResumeEqualsUninterruptedRun() throws {
        try checkResume(.cmff)
    }

    /// CMFT's resumption includes the pools of past fakes (steps beyond the pool's fill would
    /// need 10+ steps; the pools' contents are compared through the checkpoint tensors).
    func testCMFTResumeEqualsUninterruptedRunAndWritesTheAuthorsFiles() throws {
        let out = try checkResume(.cmft)
        for name in ["x2y", "y2x", "dx", "dy"] {
            let net = try Network.load(paths: [out.appendingPathComponent("\(name).safetensors").path])
            XCTAssertEqual(net.architecture, name.hasPrefix("d") ? .discriminator : .generator)
            XCTAssertEqual(net.leakySlope, 0.2)
        }
    }

    /// Runs 6 steps straight and 3 + 3 resumed; returns the resumed run's folder.
    @discardableResult
    func checkResume(_ task: TrainingConfiguration.Task) throws -> URL {
        let a = try Fixtures.scratchDirectory(), b = try Fixtures.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        var full = try configuration(steps: 6, out: a)
        full.task = task
        let straight = try Trainer(full)
        try straight.run()

        var half = full
        half.outputFolder = b.path
        half.steps = 3
        try Trainer(half).run()
        half.steps = 6
        let resumed = try Trainer(half, resume: b.appendingPathComponent("checkpoint.safetensors").path)
        XCTAssertEqual(resumed.step, 3)
        try resumed.run()
        XCTAssertEqual(resumed.step, 6)
        // Parameters and optimiser moments, bit for bit.
        let p = straight.learner.checkpointTensors(), q = resumed.learner.checkpointTensors()
        XCTAssertEqual(p.map(\.0), q.map(\.0))
        for ((name, x), (_, y)) in zip(p, q) {
            XCTAssertEqual(x.storage, y.storage, "\(name) differs after resuming")
        }
        // The resumed log has each step once.
        let log = try String(contentsOfFile: resumed.logPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.dropFirst().map { $0.prefix(while: { $0 != "," }) }, ["1", "2", "3", "4", "5", "6"])
        return b
    }

    func testResumeRefusesAnotherRun() throws {
        let out = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try Trainer(configuration(steps: 1, out: out)).run()
        var other = try configuration(steps: 2, out: out)
        other.seed = 12
        XCTAssertThrowsError(try Trainer(other, resume: out.appendingPathComponent("checkpoint.safetensors").path)) {
            XCTAssertTrue("\($0)".contains("seed"), "\($0)")
        }
    }

    func testFolderWithAMissingModalityIsRefusedNamingTheCase() throws {
        let src = try XCTUnwrap(Self.data)
        let bad = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: bad) }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: src.path).sorted() {
            try fm.copyItem(at: src.appendingPathComponent(name), to: bad.appendingPathComponent(name))
        }
        try fm.removeItem(at: bad.appendingPathComponent("phantom_0001/phantom_0001_t2.nii.gz"))
        var c = try configuration(steps: 1, out: bad.appendingPathComponent("out"))
        c.dataFolder = bad.path
        XCTAssertThrowsError(try Trainer(c)) { XCTAssertTrue("\($0)".contains("phantom_0001"), "\($0)") }
    }
}
