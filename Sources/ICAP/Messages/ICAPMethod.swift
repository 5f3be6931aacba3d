/// An ICAP request method (RFC 3507 §4.3.2).
public enum ICAPMethod: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Asks a service for its capabilities (RFC 3507 §4.10).
    case options = "OPTIONS"
    /// Request modification: the client sends an HTTP request for adaptation (RFC 3507 §4.8).
    case reqmod = "REQMOD"
    /// Response modification: the client sends an HTTP response for adaptation (RFC 3507 §4.9).
    case respmod = "RESPMOD"

    /// The method as it appears on the request line.
    public var description: String { self.rawValue }
}
