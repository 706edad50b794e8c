import Glibc

/// Text formatting for tables, logs, CSV and JSON-adjacent output, done by the C library so
/// that numbers print exactly as printf prints them, without Foundation's ICU-backed
/// formatting (the library links only FoundationEssentials).
extension String {
    /// printf-style formatting of numbers: `String(cFormat: "%.4f", x)`. Conversions take C
    /// types: `%f`, `%g` a `Double`; `%d`, `%x` an `Int32` or a smaller integer; `%ld` an
    /// `Int`. Strings go in by interpolation around the call, not as arguments.
    public init(cFormat format: String, _ arguments: CVarArg...) {
        // vsnprintf consumes its va_list, so each pass gets a fresh one.
        let count = Int(withVaList(arguments) { vsnprintf(nil, 0, format, $0) })
        precondition(count >= 0, "invalid format \(format)")
        self.init(unsafeUninitializedCapacity: count + 1) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { b in
                _ = withVaList(arguments) { vsnprintf(b.baseAddress, b.count, format, $0) }
            }
            return count
        }
    }

    /// A fixed-width column: padded with spaces, or cut, to exactly `width` characters.
    public func padded(toWidth width: Int) -> String {
        count < width ? self + String(repeating: " ", count: width - count) : String(prefix(width))
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (line breaks are kept).
    public func trimmingSpaces() -> String {
        func isSpace(_ c: Character) -> Bool { c.isWhitespace && !c.isNewline }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
