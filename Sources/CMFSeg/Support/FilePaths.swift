/// Path arithmetic on plain strings, keeping paths as the user wrote them (relative stays
/// relative; `URL` would resolve against the working directory).
public enum FilePaths {
    /// `name` inside `directory`: `join("out", "a.csv")` is `out/a.csv`; an empty
    /// directory gives `name` alone.
    public static func join(_ directory: String, _ name: String) -> String {
        let trimmed = trimmingTrailingSlashes(directory)
        if directory.isEmpty { return name }
        return trimmed.isEmpty ? "/" + name : trimmed + "/" + name
    }

    /// The folder part of `path`: `parent("out/a.csv")` is `out`, `parent("a.csv")` is
    /// empty (the working directory), `parent("/a")` is `/`.
    public static func parent(_ path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed.isEmpty && !path.isEmpty ? "/" : "" }
        let head = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return head.isEmpty ? "/" : head
    }

    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
