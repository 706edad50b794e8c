import FoundationEssentials
import Glibc

/// Every failure the library reports. Each case carries a one-line message that names the
/// problem and, where there is one, the file. The cases mirror `cmf_status` in `cmfseg.h`.
public enum CMFError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidArgument(String)
    case io(String)
    case format(String)
    case shape(String)
    case outOfMemory(String)
    case aborted(String)
    case unsupported(String)
    case `internal`(String)

    /// The one-line message, without the category.
    public var message: String {
        switch self {
        case .invalidArgument(let m), .io(let m), .format(let m), .shape(let m),
             .outOfMemory(let m), .aborted(let m), .unsupported(let m), .internal(let m):
            return m
        }
    }

    public var description: String { message }
}

extension CMFError {
    /// Why a file operation of FoundationEssentials failed, worded as the C library words it
    /// ("No such file or directory").
    public static func reason(_ error: Error) -> String {
        switch error {
        case let e as CMFError: return e.message
        case let e as POSIXError: return String(cString: strerror(e.code.rawValue))
        case let e as CocoaError:
            if let posix = e.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
            return "file operation failed (Cocoa error \(e.code.rawValue))"
        default: return "\(error)"
        }
    }
}
