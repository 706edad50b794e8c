import Glibc
import CMFSeg
import CMFSegABI

// Versions, status names, the last error and the notes' receiver: the part of the ABI that
// cannot fail.

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

/// A host's log callback and its user data, handed to the library's notes.
private struct LogTarget: @unchecked Sendable {
    // the host promises the callback and user data stay valid while installed (cmfseg.h)
    let callback: cmf_log_callback
    let userData: UnsafeMutableRawPointer?
}

@_cdecl("cmf_set_log_callback")
public func cmf_set_log_callback(_ callback: cmf_log_callback?, _ userData: UnsafeMutableRawPointer?) {
    guard let callback else { return LibraryLog.setReceiver(nil) }
    let target = LogTarget(callback: callback, userData: userData)
    LibraryLog.setReceiver { note in note.withCString { target.callback(CMF_LOG_NOTE, $0, target.userData) } }
}
