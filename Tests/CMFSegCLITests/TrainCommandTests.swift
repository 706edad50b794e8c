import CMFSeg
import Foundation
import TestSupport
import XCTest

/// `cmfseg train`, `transfer`, `bench train` and `forward --gradients` as a user runs them.
final class TrainCommandTests: XCTestCase {
    /// Two coarse (3 mm) phantom cases, written once.
    static let data = TinyPhantoms.folder(seed: 8)

    func testTrainWritesLoadableModelAndResumes() throws {
        let data = try XCTUnwrap(Self.data)
        let out = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let args = ["train", "cmff", "--data", data.path, "--val", data.path, "--out", out.path, "--patch", "32",
                    "--base-filters", "4", "--threads", "2", "--seed", "3", "--log-every", "1", "--validate-every", "0"]
        var r = try CLI.run(args + ["--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("step 2/2"), r.stdout)
        XCTAssertTrue(r.stdout.contains("validation at step 2: Dice WT"), r.stdout)
        for f in ["model.safetensors", "best.safetensors", "checkpoint.safetensors", "train.csv", "validation.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        r = try CLI.run(args + ["--steps", "3", "--resume", out.appendingPathComponent("checkpoint.safetensors").path])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("resumed from"), r.stdout)
        XCTAssertTrue(r.stdout.contains("step 3/3"), r.stdout)
        // The model segments a case through the ordinary command.
        let c = data.appendingPathComponent("phantom_0000").path + "/phantom_0000"
        let seg = out.appendingPathComponent("seg.nii.gz").path
        r = try CLI.run(["segment", "--t1", c + "_t1.nii.gz", "--t1ce", c + "_t1ce.nii.gz", "--t2", c + "_t2.nii.gz",
                         "--flair", c + "_flair.nii.gz", "--weights", out.appendingPathComponent("model.safetensors").path,
                         "--out", seg, "--threads", "2", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let meta = try SafeTensorsFile.read(path: out.appendingPathComponent("model.safetensors").path).metadata
        XCTAssertEqual(meta["training_steps"], "3")
        XCTAssertEqual(meta["patch"], "32,32,32")
        XCTAssertTrue(meta["training_command"]?.hasPrefix("cmfseg train cmff") ?? false, "\(meta)")
    }

    /// CMFT writes the authors' four files; a generator translates a case on its grid.
    func testCMFTAndTranslate() throws {
        let data = try XCTUnwrap(Self.data)
        let out = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var r = try CLI.run(["train", "cmft", "--data", data.path, "--out", out.path, "--patch", "32", "--base-filters", "2",
                             "--threads", "2", "--steps", "2", "--log-every", "1"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("adv_a") && r.stdout.contains("cyc_b"), r.stdout)
        for f in ["x2y", "y2x", "dx", "dy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(f).safetensors").path), f)
        }
        let synth = out.appendingPathComponent("synth").path
        r = try CLI.run(["translate", "--weights", out.appendingPathComponent("x2y.safetensors").path,
                         "--in", data.appendingPathComponent("phantom_0001").path, "--out", synth, "--threads", "2",
                         "--preview", synth + "/side.png"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("real and synthesised side by side"), r.stdout)
        let png = try Data(contentsOf: URL(fileURLWithPath: synth + "/side.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let t2 = try Nifti.readImage(synth + "/phantom_0001_t2_synth.nii.gz")
        let real = try Nifti.readImage(data.appendingPathComponent("phantom_0001/phantom_0001_t2.nii.gz").path)
        XCTAssertEqual(t2.shape, real.shape)
        XCTAssertTrue(zip(t2.voxels, real.voxels).allSatisfy { $1 != 0 || $0 == 0 }, "synthesised values outside the brain")
        XCTAssertTrue(t2.voxels.contains { $0 != 0 })
        XCTAssertTrue(FileManager.default.fileExists(atPath: synth + "/phantom_0001_flair_synth.nii.gz"))
        // The generators teach a CMFF of another width (feature distillation); the adapters
        // live in the checkpoint, not in the model.
        let student = out.appendingPathComponent("student")
        let gens = ["x2y", "y2x"].map { out.appendingPathComponent("\($0).safetensors").path }
        r = try CLI.run(["train", "cmff", "--data", data.path, "--out", student.path, "--patch", "32", "--base-filters", "4",
                         "--threads", "2", "--steps", "2", "--log-every", "1", "--distill"] + gens + ["--distill-weight", "0.5"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("loss_distill"), r.stdout)
        let model = try SafeTensorsFile.read(path: student.appendingPathComponent("model.safetensors").path)
        XCTAssertFalse(model.entries.contains { $0.name.hasPrefix("distill.") })
        let checkpoint = try SafeTensorsFile.read(path: student.appendingPathComponent("checkpoint.safetensors").path)
        XCTAssertEqual(checkpoint.entries.filter { $0.name.hasPrefix("param.distill.net_1.adapter_52.") }.count, 2)
        r = try CLI.run(["train", "unet4", "--data", data.path, "--out", student.path, "--patch", "32", "--steps", "1",
                         "--distill"] + gens)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("distillation teaches the two branches of CMFF"), r.stderr)
        // A segmentation network does not translate.
        r = try CLI.run(["translate", "--weights", Fixtures.path("pytorch/disc_dx5.safetensors"), "--in",
                         data.appendingPathComponent("phantom_0001").path, "--out", synth])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("does not translate"), r.stderr)
    }

    func testSIGINTStopsAfterTheStepWithACheckpoint() throws {
        let data = try XCTUnwrap(Self.data)
        let out = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = ["train", "cmff", "--data", data.path, "--out", out.path, "--patch", "32", "--base-filters", "4",
                       "--threads", "2", "--steps", "100000", "--log-every", "1", "--checkpoint-every", "100000"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        var text = ""
        while !text.contains("step 1/") {
            let d = pipe.fileHandleForReading.availableData
            guard !d.isEmpty else { break }
            text += String(decoding: d, as: UTF8.self)
        }
        kill(p.processIdentifier, SIGINT)
        text += String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("stopped at step"), text)
        let ck = try SafeTensorsFile.read(path: out.appendingPathComponent("checkpoint.safetensors").path)
        let step = try XCTUnwrap(Int(ck.metadata["step"] ?? ""))
        XCTAssertGreaterThanOrEqual(step, 1)
        XCTAssertTrue(text.contains("stopped at step \(step)"), text)
    }

    func testBadDataFolderIsRefusedBeforeTraining() throws {
        let data = try XCTUnwrap(Self.data)
        let bad = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: bad) }
        try FileManager.default.copyItem(at: data.appendingPathComponent("phantom_0001"), to: bad.appendingPathComponent("phantom_0001"))
        try FileManager.default.removeItem(at: bad.appendingPathComponent("phantom_0001/phantom_0001_flair.nii.gz"))
        let r = try CLI.run(["train", "cmff", "--data", bad.path, "--out", bad.appendingPathComponent("o").path, "--steps", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("cmfseg: error:") && r.stderr.contains("phantom_0001"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.appendingPathComponent("o/checkpoint.safetensors").path))
    }

    /// `forward --gradients` on the PyTorch training oracle: the losses to 1e-5 and every
    /// parameter's gradient (within the leaky-ReLU kink spread, see CMFFTrainingStepTests).
    func testForwardGradientsWritesLossesAndEveryGradient() throws {
        let oracle = try SafeTensorsFile.read(path: Fixtures.path("pytorch/train_cmff_step.safetensors"))
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("w.safetensors").path, inputs = dir.appendingPathComponent("in.safetensors").path
        let out = dir.appendingPathComponent("out.safetensors").path
        let params = oracle.entries.filter { $0.name.hasPrefix("param.") }
        try SafeTensorsFile(entries: params.map { .init(name: String($0.name.dropFirst(6)), tensor: $0.tensor) }).write(to: weights)
        try SafeTensorsFile(entries: [.init(name: "x0", tensor: XCTUnwrap(oracle["step1.x0"])),
                                      .init(name: "x1", tensor: XCTUnwrap(oracle["step1.x1"])),
                                      .init(name: "labels", dtype: .u8, tensor: XCTUnwrap(oracle["step1.labels"]))]).write(to: inputs)
        let r = try CLI.run(["forward", "--weights", weights, "--inputs", inputs, "--out", out, "--gradients", "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try SafeTensorsFile.read(path: out)
        for k in ["loss", "loss_0", "loss_1", "loss_f"] {
            XCTAssertEqual(try XCTUnwrap(got[k]).storage[0], try XCTUnwrap(oracle["step1.\(k)"]).storage[0], accuracy: 1e-5, k)
        }
        XCTAssertEqual(got.entries.filter { $0.name.hasPrefix("grad.") }.count, params.count)
        for p in params where !p.name.hasSuffix(".bias") {
            let name = String(p.name.dropFirst(6))
            let want = try XCTUnwrap(oracle["step1.grad.\(name)"])
            let scale = want.storage.reduce(0) { max($0, abs($1)) }
            XCTAssertLessThanOrEqual(try XCTUnwrap(got["grad.\(name)"]).maxAbsDifference(want) / scale, 2e-2, name)
        }
        // Labels that are not class indices are refused.
        try SafeTensorsFile(entries: [.init(name: "x0", tensor: XCTUnwrap(oracle["step1.x0"])),
                                      .init(name: "x1", tensor: XCTUnwrap(oracle["step1.x1"]))]).write(to: inputs)
        let bad = try CLI.run(["forward", "--weights", weights, "--inputs", inputs, "--out", out, "--gradients"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("labels"), bad.stderr)
    }

    func testTransferPrintsWhatItCopiedAndBenchPrintsJSON() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for (k, name) in ["x2y", "y2x"].enumerated() {
            let g = try Network.random(.generator, inChannels: 2, classes: 2, baseFilters: 4, seed: UInt64(k))
            let p = dir.appendingPathComponent("\(name).safetensors").path
            try g.write(to: p)
            paths.append(p)
        }
        let initPath = dir.appendingPathComponent("init.safetensors").path
        var r = try CLI.run(["transfer", "--generators"] + paths + ["--out", initPath])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("copied 72 tensors"), r.stdout)
        XCTAssertTrue(r.stdout.contains("conv_nl_1.0.weight") && r.stdout.contains("net_0.conv_last.weight"), r.stdout)
        XCTAssertEqual(try SafeTensorsFile.read(path: initPath).entries.count, 72)

        r = try CLI.run(["bench", "train", "--patch", "16", "--base-filters", "2", "--repeat", "1", "--threads", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertNotNil(json["seconds_per_step"] as? Double)
        XCTAssertNotNil(json["seconds_per_forward"] as? Double)
    }
}
