@testable import CMFSeg
import TestSupport
import XCTest

/// Each layer against numpy/scipy values (Tests/Scripts/make_layer_fixtures.py), with 1 and 2 threads.
final class LayerTests: XCTestCase {
    static let file = Result { try SafeTensorsFile.read(path: Fixtures.path("layers/layers.safetensors")) }

    func t(_ name: String) throws -> Tensor { try XCTUnwrap(Self.file.get()[name], name) }

    func check(_ got: Tensor, _ expected: String, tol: Float = 1e-5, _ label: String) throws {
        let e = try got.maxAbsDifference(t(expected))
        print("\(label): max abs error \(e)")
        XCTAssertLessThanOrEqual(e, tol, label)
    }

    func testConvolutionKernelsBothEngines() throws {
        for engine in [NaiveConvolutionEngine() as any ConvolutionEngine, OneDNNConvolutionEngine()] {
            for threads in [1, 2] {
                for (p, g) in [("conv3", ConvolutionGeometry(stride: 1, padding: 1)),
                               ("conv4", ConvolutionGeometry(stride: 2, padding: 1)),
                               ("conv1", ConvolutionGeometry())] {
                    let y = try engine.forward(t("\(p)_x"), weight: t("\(p)_w"), bias: t("\(p)_b"), geometry: g, threads: threads)
                    try check(y, "\(p)_y", tol: 2e-5, "\(engine.name) \(p) threads \(threads)")
                }
            }
        }
    }

    func testInstanceNormLeakyReLU() throws {
        for threads in [1, 2] {
            for (slope, name) in [(Float(0.01), "norm_y_001"), (0.2, "norm_y_02"), (1, "norm_y_1")] {
                var x = try t("norm_x")
                try x.instanceNormLeakyReLU(slope: slope, threads: threads)
                try check(x, name, "instance norm slope \(slope)")
            }
            var x = try t("norm_x")
            try InstanceNorm3d().forward(&x, ForwardContext(threads: threads))
            try LeakyReLU(slope: 0.2).forward(&x, ForwardContext(threads: threads))
            try check(x, "norm_y_02", "instance norm then leaky ReLU")
        }
    }

    func testTrilinearUpsamplingAlignCorners() throws {
        for threads in [1, 2] { try check(t("up_x").upsample2(threads: threads), "up_y", "upsample") }
    }

    func testMaxPoolFloorsOddSizes() throws {
        for threads in [1, 2] {
            let y = try t("pool_x").maxPool2(threads: threads)
            XCTAssertEqual(y.shape, [1, 2, 2, 3, 3])
            try check(y, "pool_y", tol: 0, "maxpool")
        }
    }

    func testSoftmaxOverChannels() throws {
        var x = try t("softmax_x")
        try x.softmaxChannels(threads: 2)
        try check(x, "softmax_y", tol: 1e-6, "softmax")
    }

    func testConcatSliceAndChannelMultiply() throws {
        let a = Tensor(shape: [2, 1, 1, 1, 2], storage: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2, 1, 1, 2], storage: [10, 11, 12, 13, 14, 15, 16, 17])
        let c = try Tensor.concatChannels([a, b])
        XCTAssertEqual(c.shape, [2, 3, 1, 1, 2])
        XCTAssertEqual(c.storage, [1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17])
        XCTAssertEqual(try c.channels(1..<3).storage, b.storage)
        let m = try c.multipliedByChannel(0, of: a, threads: 1)
        XCTAssertEqual(m.storage, [1, 4, 10, 22, 12, 26, 9, 16, 42, 60, 48, 68])
        XCTAssertThrowsError(try Tensor.concatChannels([a, Tensor(zeros: [2, 1, 1, 2, 1])]))
        XCTAssertThrowsError(try c.channels(2..<4))
    }

    func testBadConvolutionShapesThrow() {
        let x = Tensor(zeros: [1, 3, 4, 4, 4])
        let engine = OneDNNConvolutionEngine()
        XCTAssertThrowsError(try engine.forward(x, weight: Tensor(zeros: [2, 2, 3, 3, 3]), bias: nil,
                                                geometry: ConvolutionGeometry(stride: 1, padding: 1), threads: 1))
        XCTAssertThrowsError(try engine.forward(x, weight: Tensor(zeros: [2, 3, 7, 7, 7]), bias: nil,
                                                geometry: ConvolutionGeometry(), threads: 1))
        XCTAssertThrowsError(try engine.forward(x, weight: Tensor(zeros: [2, 3, 1, 1, 1]), bias: Tensor(zeros: [3]),
                                                geometry: ConvolutionGeometry(), threads: 1))
    }
}
