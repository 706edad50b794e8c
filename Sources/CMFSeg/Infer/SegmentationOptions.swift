import Foundation

/// Everything the segmentation pipeline can be told, with the defaults of the method.
public struct SegmentationOptions: Equatable, Sendable {
    public var preprocess = PreprocessOptions()
    public var window = SlidingWindowOptions()
    /// nil switches post-processing off (the raw argmax is returned).
    public var postProcess: PostProcessOptions? = PostProcessOptions()
    /// The label value written for each network class (metadata `class_values`); BraTS
    /// 2017–2022 by default: background 0, edema 2, NCR/NET 1, enhancing 4.
    public var classValues: [UInt8] = [0, 2, 1, 4]
    /// Also return the class probabilities on the input grid.
    public var keepProbabilities = false
    /// Threads for the pipeline's own kernels (≤ 0: OpenMP's default). The network's
    /// threads are the predictor's business.
    public var threads = 0

    public init() {}

    /// Parses metadata `class_values` ("0,2,1,4").
    /// - Throws: `CMFError.format` for anything but comma-separated integers in 0...255.
    public static func parseClassValues(_ text: String) throws -> [UInt8] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var values: [UInt8] = []
        for p in parts {
            guard let v = UInt8(p.trimmingCharacters(in: .whitespaces)) else {
                throw CMFError.format("class_values \"\(text)\" is not a comma-separated list of integers in 0...255")
            }
            values.append(v)
        }
        return values
    }

    /// Parses metadata `patch` ("128,128,128", PyTorch order D,H,W) into a ``Shape3`` (x, y, z).
    /// - Throws: `CMFError.format` unless three positive integers.
    public static func parsePatch(_ text: String) throws -> Shape3 {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let d = parts[0], let h = parts[1], let w = parts[2], d > 0, h > 0, w > 0 else {
            throw CMFError.format("patch \"\(text)\" is not three positive integers D,H,W")
        }
        return Shape3(w, h, d)
    }
}
