import Foundation
import CMFSeg
import CMFSegABI

// Versions, status names and the last error: the part of the ABI that cannot fail.

nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = UnsafePointer(strdup(CMFSegVersion.string)!)

@_cdecl("cmf_version")
public func cmf_version() -> UnsafePointer<CChar> { versionString }

@_cdecl("cmf_abi_version")
public func cmf_abi_version() -> UInt32 { UInt32(CMF_ABI_VERSION) }

nonisolated(unsafe) private let statusNames: [UnsafePointer<CChar>] = ([
    "ok", "invalid argument", "I/O error", "format error", "shape error", "out of memory",
    "aborted", "unsupported", "internal error",
] as [String]).map { UnsafePointer(strdup($0)!) }
nonisolated(unsafe) private let unknownStatus: UnsafePointer<CChar> = UnsafePointer(strdup("unknown status")!)

@_cdecl("cmf_status_string")
public func cmf_status_string(_ status: cmf_status) -> UnsafePointer<CChar> {
    let i = Int(status.rawValue)
    return statusNames.indices.contains(i) ? statusNames[i] : unknownStatus
}

@_cdecl("cmf_last_error_message")
public func cmf_last_error_message() -> UnsafePointer<CChar> { LastError.current }
