import Synchronization

/// Where the library's notes go: what it inferred, assumed or fell back to (a raw export's
/// architecture, a segmentation with one modality pair). A host installs one receiver for
/// the process — the CLI prints to stderr, C hosts call `cmf_set_log_callback`, the Python
/// package forwards to its `cmfseg` logger; without one, notes are dropped. The receiver is
/// called on the thread that does the work, possibly several threads at once.
public enum LibraryLog {
    public typealias Receiver = @Sendable (String) -> Void

    private static let receiver = Mutex<Receiver?>(nil)

    /// Installs `receiver` (nil: drop notes), replacing the previous one.
    public static func setReceiver(_ receiver: Receiver?) {
        self.receiver.withLock { $0 = receiver }
    }

    /// Hands `message` to the receiver, if any.
    public static func note(_ message: String) {
        receiver.withLock { $0 }?(message)
    }
}
