import NIOCore
import NIOHTTP1

/// What the owner of an ICAP server decides for one encapsulated HTTP message.
public enum ICAPAdaptation: Sendable {
    /// Pass it on unmodified (`204`, or the message echoed when the client does not allow 204).
    case unchanged
    /// REQMOD: send this request instead (`200` with `req-hdr`), body unchanged.
    case modifiedRequest(HTTPRequestHead)
    /// Answer the HTTP client with this response (`200` with `res-hdr`): request satisfaction,
    /// how a block page goes back through Squid.
    case respond(HTTPResponseHead, body: ByteBuffer)
}

/// The decisions behind an ICAP server: one per connection, used on its event loop only.
public protocol ICAPServerAdapter {
    /// The service tag (`ISTag`), quoted; it changes whenever the decisions may change.
    var istag: String { get }
    /// Decides a REQMOD: `icap` carries the client's `X-Client-IP` and user headers.
    func adaptRequest(_ request: HTTPRequestHead, icap: ICAPRequestHead) -> ICAPAdaptation
    /// Decides a RESPMOD.
    func adaptResponse(_ response: HTTPResponseHead, request: HTTPRequestHead?, icap: ICAPRequestHead) -> ICAPAdaptation
}

/// The services an ICAP server offers: `icap://HOST:PORT/reqmod` and `/respmod`.
public enum ICAPServerService: String, Sendable, CaseIterable {
    case reqmod
    case respmod

    public var method: ICAPMethod { self == .reqmod ? .reqmod : .respmod }

    /// The service an ICAP URI names (its path, without a query), if any.
    public init?(uri: String) {
        var path = Substring(uri)
        if let colon = path.firstIndex(of: ":"), path[colon...].hasPrefix("://") {
            path = path[path.index(colon, offsetBy: 3)...]
            guard let slash = path.firstIndex(of: "/") else { return nil }
            path = path[slash...]
        }
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard path.hasPrefix("/"), let service = Self(rawValue: String(path.dropFirst()).lowercased()) else {
            return nil
        }
        self = service
    }
}
