/// Why an ICAP exchange failed. Every failure makes the connection unusable.
public struct ICAPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable {
        case timeout, closed, malformed(String), connect(String), suspended, status(Int)
    }

    private let kind: Kind

    /// The service stayed silent past the read deadline.
    public static let timeout = Self(kind: .timeout)
    /// The connection closed before the answer ended.
    public static let closed = Self(kind: .closed)
    /// The service is suspended by its circuit breaker.
    public static let suspended = Self(kind: .suspended)
    /// The answer could not be read as ICAP.
    public static func malformed(_ detail: String) -> Self { Self(kind: .malformed(detail)) }
    /// The service could not be reached.
    public static func connect(_ detail: String) -> Self { Self(kind: .connect(detail)) }
    /// The service answered with an error status (not 200 or 204).
    public static func status(_ code: Int) -> Self { Self(kind: .status(code)) }

    public var description: String {
        switch self.kind {
        case .timeout: return "the ICAP service did not answer in time"
        case .closed: return "the ICAP service closed the connection before answering"
        case .suspended: return "the ICAP service is suspended after repeated failures"
        case .malformed(let detail): return "malformed ICAP answer: \(detail)"
        case .connect(let detail): return "cannot connect to the ICAP service: \(detail)"
        case .status(let code): return "the ICAP service answered \(code)"
        }
    }

    /// A short label for the access log (`timeout`, `closed`, `error`…).
    public var label: String {
        switch self.kind {
        case .timeout: return "timeout"
        case .closed: return "closed"
        case .suspended: return "suspended"
        case .malformed: return "malformed"
        case .connect: return "unreachable"
        case .status(let code): return String(code)
        }
    }
}
