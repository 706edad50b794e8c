import CCMFKernels

/// Allocator settings for executables built on the library (the `cmfseg` CLI).
///
/// The forward pass allocates and frees tensors of up to 128 MB per layer. glibc serves
/// blocks that large with mmap and returns them with munmap, so every window page-faults
/// gigabytes of fresh memory: measured 13.1 s per 128³ CMFF window (5 s of it system time)
/// against 8.6 s when freed memory is kept. This changes the whole process's allocator, so
/// the library never calls it on its own; a host program may. (An arena in the engine would
/// be the general fix.)
public enum ProcessMemory {
    /// Keeps freed memory for reuse. Returns true when glibc accepted the settings.
    @discardableResult
    public static func keepFreedMemory() -> Bool { cmfk_malloc_keep_freed() == 1 }
}
