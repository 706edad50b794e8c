@testable import CMFSeg
import XCTest

/// CMFT → CMFF parameter transfer copies exactly the tensors whose names and shapes match.
final class ParameterTransferTests: XCTestCase {
    func testBranchesTakeTheGeneratorsAndTheRestIsListed() throws {
        let gAB = try Network.random(.generator, inChannels: 2, classes: 2, baseFilters: 4, seed: 1)
        let gBA = try Network.random(.generator, inChannels: 2, classes: 2, baseFilters: 4, seed: 2)
        let setAB = WeightSet(tensors: Dictionary(uniqueKeysWithValues: gAB.namedParameters()))
        let setBA = WeightSet(tensors: Dictionary(uniqueKeysWithValues: gBA.namedParameters()))
        let r = try ParameterTransfer.cmffInitialisation(gAB: setAB, gBA: setBA)

        XCTAssertEqual(Set(r.leftInitial), ["net_0.conv_last.weight", "net_0.conv_last.bias", "net_1.conv_last.weight",
                                            "net_1.conv_last.bias", "conv_nl_1.0.weight", "conv_nl_1.0.bias",
                                            "conv_nl_2.0.weight", "conv_nl_2.0.bias", "conv_nl_f.0.weight", "conv_nl_f.0.bias",
                                            "conv_last.weight", "conv_last.bias"])
        XCTAssertEqual(r.copied.count, 2 * 18 * 2)   // 18 blocks × (weight, bias) per branch
        XCTAssertEqual(Set(r.tensors.keys), Set(r.copied))
        for name in r.copied {
            let source = name.hasPrefix("net_0.") ? setAB : setBA
            XCTAssertEqual(r.tensors[name]?.storage, source.tensors[String(name.dropFirst(6))]?.storage, name)
        }
        // A CMFF run started from it holds the generators' tensors in its branches.
        var cmff = try Network.random(.cmffM2G, inChannels: 2, classes: 4, baseFilters: 4, seed: 3)
        let report = cmff.copyMatching(r.tensors)
        XCTAssertEqual(report.copied.count, r.copied.count)
        XCTAssertTrue(report.unused.isEmpty)
        let after = Dictionary(uniqueKeysWithValues: cmff.namedParameters())
        XCTAssertEqual(after["net_1.conv_norm_lrelu_33.0.weight"]?.storage, setBA.tensors["conv_norm_lrelu_33.0.weight"]?.storage)
    }

    func testWidthMismatchIsRefused() throws {
        let a = try Network.random(.generator, inChannels: 2, classes: 2, baseFilters: 4, seed: 1)
        let b = try Network.random(.generator, inChannels: 2, classes: 2, baseFilters: 8, seed: 2)
        XCTAssertThrowsError(try ParameterTransfer.cmffInitialisation(
            gAB: WeightSet(tensors: Dictionary(uniqueKeysWithValues: a.namedParameters())),
            gBA: WeightSet(tensors: Dictionary(uniqueKeysWithValues: b.namedParameters()))))
    }
}
