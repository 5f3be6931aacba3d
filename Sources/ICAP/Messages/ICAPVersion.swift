/// The version on an ICAP start line. RFC 3507 defines only `ICAP/1.0`; the decoders refuse any other.
public struct ICAPVersion: Hashable, Sendable, CustomStringConvertible {
    /// The major version number.
    public var major: Int
    /// The minor version number.
    public var minor: Int

    /// A version from its two numbers.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `ICAP/1.0`, the only version in use.
    public static let icap1_0 = ICAPVersion(major: 1, minor: 0)

    /// The version as written on the wire, `ICAP/1.0`.
    public var description: String { "ICAP/\(self.major).\(self.minor)" }
}
