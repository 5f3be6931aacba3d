/// An ICAP request method (RFC 3507 §4.3.2).
public enum ICAPMethod: String, Sendable, Hashable, CaseIterable {
    case options = "OPTIONS"
    case reqmod = "REQMOD"
    case respmod = "RESPMOD"
}
