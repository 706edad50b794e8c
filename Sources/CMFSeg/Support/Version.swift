/// The library version; keep in step with CMF_VERSION_* in include/cmfseg.h.
public enum CMFSegVersion {
    public static let major = 0, minor = 1, patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
}
