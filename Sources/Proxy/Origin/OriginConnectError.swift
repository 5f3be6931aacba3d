/// Why no connection to an origin could be made; each maps to the page the client gets.
struct OriginConnectError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable {
        case nameNotResolved
        case destinationDenied
        case unreachable
        case timeout
    }

    let kind: Kind
    let detail: String

    var page: LocalPage {
        switch self.kind {
        case .nameNotResolved: return .nameNotResolved
        case .destinationDenied: return .destinationDenied
        case .unreachable: return .originUnreachable
        case .timeout: return .originTimeout
        }
    }

    var description: String { self.detail }
}
