import NIOHTTP1

/// How one origin response goes back to the client. A class, like `ForwardPlan`: it travels
/// through the exchange's states and actions, and a reference is cheaper to carry than its
/// fields (the origin's head among them).
final class ResponsePlan {
    /// The origin's head, forwarded field line by field line, less what `isDropped` says.
    let head: OriginResponseHead
    /// Framing on the origin connection.
    let originFraming: BodyFraming
    /// Framing towards the client (may differ: read-until-close becomes chunked for HTTP/1.1).
    let clientFraming: BodyFraming
    /// Whether the client connection stays open after this response.
    let keepClientAlive: Bool
    /// Whether the origin connection may be pooled after this response (if fully read).
    let originReusable: Bool
    /// 101 Switching Protocols: both sides become a tunnel after the head.
    let switchesProtocols: Bool
    /// The origin's Content-Length is dropped (the body is re-framed).
    let dropsContentLength: Bool
    /// Fields the proxy adds after the origin's, in this order.
    let addsChunked: Bool
    let connection: StaticString?
    let upgrade: String?
    let via: String

    init(
        head: OriginResponseHead, originFraming: BodyFraming, clientFraming: BodyFraming, keepClientAlive: Bool,
        originReusable: Bool, switchesProtocols: Bool, dropsContentLength: Bool, addsChunked: Bool,
        connection: StaticString?, upgrade: String?, via: String
    ) {
        self.head = head
        self.originFraming = originFraming
        self.clientFraming = clientFraming
        self.keepClientAlive = keepClientAlive
        self.originReusable = originReusable
        self.switchesProtocols = switchesProtocols
        self.dropsContentLength = dropsContentLength
        self.addsChunked = addsChunked
        self.connection = connection
        self.upgrade = upgrade
        self.via = via
    }
}

@available(*, unavailable)
extension ResponsePlan: Sendable {}

/// This proxy's `Via` entries, made once (RFC 9110 §7.6.3: the received protocol version).
struct ViaEntries: Sendable {
    let http10: String
    let http11: String

    init(name: String) {
        self.http10 = "1.0 " + name
        self.http11 = "1.1 " + name
    }

    func entry(minorVersion: Int) -> String { minorVersion == 0 ? self.http10 : self.http11 }
}

/// Decides how an origin response head is forwarded to the client. Pure.
enum ResponsePlanner {
    /// A 1xx head (`100 Continue`): forwarded as it is, with `Via`.
    static func informational(_ head: OriginResponseHead, via: ViaEntries) -> ResponsePlan {
        ResponsePlan(
            head: head, originFraming: .none, clientFraming: .none, keepClientAlive: true, originReusable: true,
            switchesProtocols: false, dropsContentLength: false, addsChunked: false, connection: nil, upgrade: nil,
            via: via.entry(minorVersion: head.minorVersion))
    }

    static func plan(_ head: OriginResponseHead, for request: ForwardPlan, via: ViaEntries) -> ResponsePlan {
        let fields = head.fields
        let originFraming = fields.responseFraming(status: head.status, requestWasHEAD: request.method.isHEAD)
        let originKeepAlive = fields.wantsKeepAlive(minorVersion: head.minorVersion)
        let switching = head.status == 101 && request.upgrade != nil

        var addsChunked = false
        var connection: StaticString?
        var upgrade: String?
        var keepClient = request.clientKeepAlive
        var dropsContentLength = false
        let clientFraming: BodyFraming
        let isHTTP11Client = request.clientVersion.minor >= 1
        switch originFraming {
        case .none:
            // HEAD and bodiless statuses keep Content-Length (it describes the entity) but never
            // Transfer-Encoding, so nothing is framed as a body.
            clientFraming = .none
        case .contentLength:
            clientFraming = originFraming
        case .chunked, .untilClose:
            dropsContentLength = true
            if isHTTP11Client {
                clientFraming = .chunked
                addsChunked = true
            } else {
                clientFraming = .untilClose
                keepClient = false
            }
        }
        if switching {
            keepClient = false
            connection = "Upgrade"
            upgrade = fields.upgrade
        } else {
            if request.upgrade != nil {
                // The client's decoder stopped at the upgrade request: the connection cannot carry more.
                keepClient = false
            }
            if !keepClient {
                connection = "close"
            } else if !isHTTP11Client {
                connection = "keep-alive"
            }
        }
        return ResponsePlan(
            head: head, originFraming: originFraming, clientFraming: clientFraming, keepClientAlive: keepClient,
            originReusable: originKeepAlive && originFraming != .untilClose && !switching, switchesProtocols: switching,
            dropsContentLength: dropsContentLength, addsChunked: addsChunked, connection: connection, upgrade: upgrade,
            via: via.entry(minorVersion: head.minorVersion))
    }
}
