@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// Caps on voxels and memory: parsed from the environment's and the CLI's text, checked
/// before reading, segmenting and evaluating, refused with a message that names the need,
/// the cap and how to raise it.
final class ResourceLimitsTests: XCTestCase {
    func testSizesParse() throws {
        XCTAssertEqual(try ResourceLimits.parse("8G", name: "m", sizes: true), 8 << 30)
        XCTAssertEqual(try ResourceLimits.parse("512MiB", name: "m", sizes: true), 512 << 20)
        XCTAssertEqual(try ResourceLimits.parse("64kb", name: "m", sizes: true), 64 << 10)
        XCTAssertEqual(try ResourceLimits.parse(" 1073741824 ", name: "m", sizes: true), 1 << 30)
        XCTAssertEqual(try ResourceLimits.parse("134217728", name: "v", sizes: false), 134_217_728)
        for bad in ["", "0", "-5", "1.5G", "8X", "G", "abc", "99999999999T"] {
            XCTAssertThrowsError(try ResourceLimits.parse(bad, name: "CMFSEG_MAX_MEMORY", sizes: true), bad) { e in
                guard case CMFError.invalidArgument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.hasPrefix("CMFSEG_MAX_MEMORY=\(bad) is not"), m)
            }
        }
        XCTAssertThrowsError(try ResourceLimits.parse("5K", name: "v", sizes: false))   // voxels take no unit
        XCTAssertEqual(ResourceLimits.describe(bytes: 100 << 20), "100 MiB")
        XCTAssertEqual(ResourceLimits.describe(bytes: 3 << 30 + 100 << 20), "3.1 GiB")
    }

    func testBuiltInDefaultsAndCallOverrides() throws {
        XCTAssertEqual(ResourceLimits.builtIn.maxVoxels, 512 * 512 * 512)
        XCTAssertGreaterThan(ResourceLimits.builtIn.maxBytes, 1 << 28)
        let call = try ResourceLimits.forCall(maxVoxels: 1000, maxBytes: 0)
        XCTAssertEqual(call.maxVoxels, 1000)
        XCTAssertEqual(call.maxBytes, try ResourceLimits.current().maxBytes)
        XCTAssertThrowsError(try ResourceLimits.forCall(maxVoxels: -1, maxBytes: 0)) { e in
            guard case CMFError.invalidArgument = e else { return XCTFail("\(e)") }
        }
    }

    func testReadingBeyondTheLimitsIsRefusedBeforeAllocating() throws {
        let path = Fixtures.path("brats-labels/step0200_ref.nii.gz")
        XCTAssertThrowsError(try Nifti.readLabels(path, limits: ResourceLimits(maxVoxels: 1_000_000, maxBytes: 1 << 40))) { e in
            guard case CMFError.outOfMemory(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("8928000 voxels exceed the limit of 1000000"), m)
            XCTAssertTrue(m.contains("step0200_ref.nii.gz"), m)
        }
        XCTAssertThrowsError(try Nifti.readImage(path, limits: ResourceLimits(maxVoxels: 1 << 30, maxBytes: 10 << 20))) { e in
            guard case CMFError.outOfMemory(let m) = e else { return XCTFail("\(e)") }
            // stored uint8 + float32 per voxel
            XCTAssertTrue(m.contains("needs about 43 MiB, more than the memory limit of 10 MiB"), m)
        }
        XCTAssertNoThrow(try Nifti.readLabels(path, limits: ResourceLimits(maxVoxels: 8_928_000, maxBytes: 2 * 8_928_000)))
    }

    func testEvaluationChecksItsEstimate() throws {
        let path = Fixtures.path("brats-labels/step0200_ref.nii.gz")
        var options = EvaluationOptions()
        options.limits = ResourceLimits(maxVoxels: 1 << 30, maxBytes: 100 << 20)
        XCTAssertThrowsError(try BraTSEvaluator(options: options).evaluate(referencePath: path, predictionPath: path)) { e in
            guard case CMFError.outOfMemory(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("needs about 545 MiB, more than the memory limit of 100 MiB"), m)
        }
        options.limits?.maxBytes = EvaluationOptions.estimatedBytes(voxels: 8_928_000)
        XCTAssertNoThrow(try BraTSEvaluator(options: options).evaluate(referencePath: path, predictionPath: path))
    }

    func testSegmentationChecksItsEstimateBeforeTheWork() throws {
        let model = try SegmentationModel(weightPaths: PyTorchFixtureTests.m2gFiles, context: ForwardContext(threads: 1))
        let input = SegmenterTests.syntheticCase()
        var options = SegmentationOptions(for: model)
        options.window.patch = Shape3(16, 16, 16)
        let need = model.estimatedBytes(grid: Shape3(30, 26, 20), options: options)
        // per grid voxel 4·4 inputs + 4·4 probabilities + weights, masks, labels, post-processing;
        // per window voxel 72 · F activations and the window's tensors
        let f = model.network.baseFilters
        XCTAssertEqual(need, (16 + 16 + 4 + 3 + 8) * 30 * 26 * 20 + (72 * f + 4 * 9) * 16 * 16 * 16)
        options.limits = ResourceLimits(maxVoxels: 1 << 30, maxBytes: need - 1)
        let polls = Counter()
        let control = InferenceControl(isCancelled: { polls.increment() > 1_000_000 })
        XCTAssertThrowsError(try model.segment(input, options: options, control: control)) { e in
            guard case CMFError.outOfMemory(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.hasPrefix("segmenting a 30×26×20 case with 16×16×16 windows needs about"), m)
        }
        XCTAssertEqual(polls.value, 0, "refused before any work")
        options.limits = ResourceLimits(maxVoxels: 30 * 26 * 20 - 1, maxBytes: 1 << 40)
        XCTAssertThrowsError(try model.segment(input, options: options)) { e in
            guard case CMFError.outOfMemory(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("15600 voxels exceed the limit of 15599"), m)
        }
        options.limits = ResourceLimits(maxVoxels: 30 * 26 * 20, maxBytes: need)
        XCTAssertNoThrow(try model.segment(input, options: options))
    }
}
