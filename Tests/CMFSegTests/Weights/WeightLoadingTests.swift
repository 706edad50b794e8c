@testable import CMFSeg
import TestSupport
import XCTest

/// Building networks from weight sets: missing, mis-shaped, unknown and duplicated tensors.
final class WeightLoadingTests: XCTestCase {
    static let m2g = Result { try WeightSet.load(paths: PyTorchFixtureTests.m2gFiles) }

    func loadError(_ set: WeightSet) -> CMFError? {
        do { _ = try Network.load(set); return nil } catch let e as CMFError { return e } catch { return .internal("\(error)") }
    }

    func testMissingTensorIsNamed() throws {
        var set = try Self.m2g.get()
        set.tensors["net_1.conv_norm_lrelu_33.0.bias"] = nil
        guard case .format(let m)? = loadError(set) else { return XCTFail() }
        XCTAssertTrue(m.contains("missing tensor \"net_1.conv_norm_lrelu_33.0.bias\""), m)
    }

    func testMisshapedTensorSaysExpectedAndGot() throws {
        var set = try Self.m2g.get()
        set.tensors["conv_nl_2.0.weight"] = Tensor(zeros: [16, 32, 3, 3, 2])
        guard case .shape(let m)? = loadError(set) else { return XCTFail() }
        XCTAssertTrue(m.contains("conv_nl_2.0.weight") && m.contains("[16, 32, 3, 3, 2]") && m.contains("expected [16, 32, 3, 3, 3]"), m)
    }

    func testUnknownTensorsAreListed() throws {
        var set = try Self.m2g.get()
        set.tensors["net_0.extra.weight"] = Tensor(zeros: [1])
        guard case .format(let m)? = loadError(set) else { return XCTFail() }
        XCTAssertTrue(m.contains("unknown") && m.contains("net_0.extra.weight"), m)
    }

    func testNonFiniteWeightsAndEmptyNetworksAreRefused() throws {
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var file = try SafeTensorsFile.read(path: Fixtures.path("pytorch/m2g_rand_fusion.safetensors"))
        file.entries[0].tensor.storage[3] = .nan
        let path = dir.appendingPathComponent("nan.safetensors").path
        try file.write(to: path)
        XCTAssertThrowsError(try WeightSet.load(paths: [path])) { e in
            guard case CMFError.format(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("tensor \"\(file.entries[0].name)\" holds nan at element 3; weights must be finite"), m)
        }
        // a 4-modality U-Net with 0 classes: its shapes agree, but it would compute nothing
        var tensors = Dictionary(uniqueKeysWithValues: try Network.random(.unet4Mod, inChannels: 4, classes: 1, baseFilters: 2, seed: 1)
            .namedTensors())
        tensors["conv_last.weight"] = Tensor(zeros: [0] + tensors["conv_last.weight"]!.shape.dropFirst())
        tensors["conv_last.bias"] = Tensor(zeros: [0])
        guard case .shape(let m)? = loadError(WeightSet(tensors: tensors)) else { return XCTFail() }
        XCTAssertTrue(m.contains("0 outputs") && m.contains("every size must be at least 1"), m)
    }

    func testDuplicateNameAcrossFilesIsAnError() {
        let f = Fixtures.path("pytorch/m2g_rand_fusion.safetensors")
        XCTAssertThrowsError(try WeightSet.load(paths: [f, f])) { e in
            guard case CMFError.format(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("in both"), m)
        }
    }

    func testBranchAloneIsNotAModelAndNamesAreChecked() {
        XCTAssertThrowsError(try Network.load(paths: [Fixtures.path("pytorch/m2g_rand_net0.safetensors")]))
        XCTAssertThrowsError(try Network.load(WeightSet(tensors: ["foo": Tensor(zeros: [1])]))) { e in
            guard case CMFError.format(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("cannot tell the architecture"), m)
        }
    }

    func testMetadataIsCheckedAgainstTensors() throws {
        var set = try Self.m2g.get()
        set.metadata = ["architecture": "cmff-m2g", "base_filters": "20"]
        guard case .format(let m)? = loadError(set) else { return XCTFail() }
        XCTAssertTrue(m.contains("base_filters"), m)
        set.metadata = ["architecture": "unet-4mod"]
        XCTAssertNotNil(loadError(set))
        set.metadata = ["architecture": "cmff-m2g", "leaky_slope": "0.05", "class_values": "0,1,2,3", "pairs": "t2,flair|t1,t1ce"]
        let net = try Network.load(set)
        XCTAssertEqual(net.leakySlope, 0.05)
        XCTAssertTrue(net.notes.isEmpty, "\(net.notes)")
        let model = try SegmentationModel(network: net)
        XCTAssertEqual(model.classValues, [0, 1, 2, 3])
        XCTAssertEqual(model.pairs, [[.t2, .flair], [.t1, .t1ce]])
        set.metadata["class_values"] = "0,1,2"
        XCTAssertThrowsError(try SegmentationModel(network: Network.load(set)))
    }

    /// Branch 0 re-exported as a single-pair U-Net and as a 4-modality-shaped U-Net.
    func testUNetVariantsAreInferred() throws {
        let set = try Self.m2g.get()
        var single: [String: Tensor] = [:]
        for (k, v) in set.tensors where k.hasPrefix("net_0.") { single[String(k.dropFirst(6))] = v }
        let net = try Network.load(WeightSet(tensors: single))
        XCTAssertEqual(net.architecture, .unetSinglePair)
        let model = try SegmentationModel(network: net)
        XCTAssertEqual(model.pairs, [[.t1, .t1ce]])
        XCTAssertEqual(try model.route(available: [.t1, .t1ce]), .single)
        XCTAssertThrowsError(try model.route(available: [.t2, .flair]))
        XCTAssertTrue(model.describe(.fused).contains("not a route"))
        XCTAssertTrue(model.describe(.single).contains("t1+t1ce"))

        var four = single
        four["conv_norm_lrelu_11.0.weight"] = Tensor(zeros: [16, 4, 3, 3, 3])
        let net4 = try Network.load(WeightSet(tensors: four))
        XCTAssertEqual(net4.architecture, .unet4Mod)
        let m4 = try SegmentationModel(network: net4)
        XCTAssertEqual(m4.pairs, [[.t1, .t1ce, .t2, .flair]])
        XCTAssertThrowsError(try m4.route(available: [.t1, .t1ce, .t2]))

        var gen = single
        gen["conv_last.weight"] = Tensor(zeros: [2, 16, 1, 1, 1])
        gen["conv_last.bias"] = Tensor(zeros: [2])
        let g = try Network.load(WeightSet(tensors: gen))
        XCTAssertEqual(g.architecture, .generator)
        XCTAssertEqual(g.leakySlope, 0.2)
    }
}

final class NetworkWriteTests: XCTestCase {
    /// Load the raw PyTorch export, write it with metadata, load it again: same tensors,
    /// metadata read back, nothing inferred.
    func testWriteThenLoadKeepsTensorsAndMetadata() throws {
        let net = try Network.load(paths: PyTorchFixtureTests.m2gFiles)
        let dir = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m2g.safetensors").path
        try net.write(to: path, extraMetadata: ["class_values": "0,2,1,4", "pairs": "t1,t1ce|t2,flair"])
        let set = try WeightSet.load(paths: [path])
        let original = try WeightSet.load(paths: PyTorchFixtureTests.m2gFiles)
        XCTAssertEqual(Set(set.tensors.keys), Set(original.tensors.keys))
        for (k, v) in original.tensors { XCTAssertEqual(set.tensors[k]?.storage, v.storage, k) }
        XCTAssertEqual(set.metadata["architecture"], "cmff-m2g")
        XCTAssertEqual(set.metadata["base_filters"], "16")
        XCTAssertEqual(set.metadata["leaky_slope"], "0.01")
        let back = try Network.load(set)
        XCTAssertTrue(back.notes.isEmpty, "\(back.notes)")
        XCTAssertTrue(try SegmentationModel(network: back).notes.isEmpty)

        let disc = try Network.load(paths: [Fixtures.path("pytorch/disc_dx5.safetensors")])
        try disc.write(to: path, dtype: .bf16)
        let discBack = try Network.load(paths: [path])
        XCTAssertEqual(discBack.architecture, .discriminator)
        XCTAssertEqual(discBack.leakySlope, 0.2)
        XCTAssertEqual(discBack.metadata["source"], "2m_re1 gan_22 dx_5")
    }
}
