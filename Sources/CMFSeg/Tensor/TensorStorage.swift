import CCMFKernels

/// The floats behind a ``Tensor``: contiguous, 64-byte aligned, copy-on-write like an array.
///
/// Buffers come from the network's buffer pool (`buffer_pool.c`): while a scope is open
/// (``openPoolScope()``: a forward pass, a segmentation, a training run) a freed
/// activation's memory serves the next tensors, whatever their sizes, instead of being
/// unmapped and page-faulted again (the kernel zeroes every fresh page).
public struct TensorStorage: Sendable {
    final class Buffer: @unchecked Sendable {   // mutated only when uniquely referenced
        let base: UnsafeMutablePointer<Float>
        let count: Int

        /// Uninitialised floats. Running out of memory ends the process, as it does for an
        /// array; the resource limits are checked before the large allocations.
        init(count: Int) {
            let bytes = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
            guard !bytes.overflow, let raw = cmfk_pool_take(bytes.partialValue) else {
                fatalError("out of memory: a tensor of \(count) floats")
            }
            base = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
            self.count = count
        }

        deinit { cmfk_pool_give(base, count * MemoryLayout<Float>.stride) }
    }

    private var buffer: Buffer

    /// Floats a kernel is about to overwrite, every one of them: no zeroing pass. Debug
    /// builds fill them with NaN, so that a value left unwritten shows in the tests.
    init(uninitializedCount count: Int) {
        buffer = Buffer(count: count)
        #if DEBUG
        buffer.base.initialize(repeating: .nan, count: count)
        #endif
    }

    public init(repeating value: Float, count: Int) {
        buffer = Buffer(count: count)
        buffer.base.initialize(repeating: value, count: count)
    }

    public init(_ values: some Collection<Float>) {
        buffer = Buffer(count: values.count)
        let target = UnsafeMutableBufferPointer(start: buffer.base, count: buffer.count)
        if values.withContiguousStorageIfAvailable({ _ = target.initialize(from: $0) }) == nil {
            _ = target.initialize(from: values)
        }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: buffer.base, count: buffer.count))
    }

    /// As `Array`'s: the closure may write every element but must not replace the buffer.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        var pointer = UnsafeMutableBufferPointer(start: buffer.base, count: buffer.count)
        let base = pointer.baseAddress
        defer { precondition(pointer.baseAddress == base && pointer.count == buffer.count, "the buffer was replaced") }
        return try body(&pointer)
    }

    private mutating func makeUnique() {
        guard !isKnownUniquelyReferenced(&buffer) else { return }
        let copy = Buffer(count: buffer.count)
        copy.base.initialize(from: buffer.base, count: buffer.count)
        buffer = copy
    }

    /// Opens a scope of the buffer pool: the memory of freed tensors of 1 MiB and more is
    /// kept for reuse until the outermost scope (of any thread) closes. Pair every open with a close
    /// (`defer`); scopes nest.
    public static func openPoolScope() { cmfk_pool_enter() }
    public static func closePoolScope() { cmfk_pool_leave() }
}

extension TensorStorage: RandomAccessCollection, MutableCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { buffer.count }

    public subscript(index: Int) -> Float {
        get {
            precondition(index >= 0 && index < buffer.count, "index \(index) out of range 0..<\(buffer.count)")
            return buffer.base[index]
        }
        set {
            precondition(index >= 0 && index < buffer.count, "index \(index) out of range 0..<\(buffer.count)")
            makeUnique()
            buffer.base[index] = newValue
        }
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R? {
        try withUnsafeBufferPointer(body)
    }

    public mutating func withContiguousMutableStorageIfAvailable<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        try withUnsafeMutableBufferPointer(body)
    }
}

extension TensorStorage: Equatable {
    public static func == (a: TensorStorage, b: TensorStorage) -> Bool {
        a.buffer === b.buffer || a.elementsEqual(b)
    }
}

extension TensorStorage: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Float...) { self.init(elements) }
}
