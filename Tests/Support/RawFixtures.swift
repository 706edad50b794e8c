import Foundation

/// Raw little-endian arrays written by the Python fixture scripts (Tests/Scripts).
public enum RawFixtures {
    public static func floats(_ relative: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative)))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    public static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative))))
    }

    public static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative)))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "RawFixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(relative) is not a JSON object"])
        }
        return object
    }
}
