import NIOHTTP1

/// What to do with a request the proxy will send on to an origin. A class: it travels
/// through several states of the exchange, and a reference is cheaper to carry than its fields.
final class ForwardPlan: Sendable {
    let target: RequestTarget
    /// The request head as the origin will see it (origin-form, hop-by-hop stripped, Via added).
    let originHead: HTTPRequestHead
    let requestFraming: BodyFraming
    /// The protocol the client asked to switch to (WebSocket), passed through as a tunnel.
    let upgrade: String?
    let clientVersion: HTTPVersion
    let clientKeepAlive: Bool
    var method: HTTPMethod { self.originHead.method }

    init(
        target: RequestTarget, originHead: HTTPRequestHead, requestFraming: BodyFraming, upgrade: String?,
        clientVersion: HTTPVersion, clientKeepAlive: Bool
    ) {
        self.target = target
        self.originHead = originHead
        self.requestFraming = requestFraming
        self.upgrade = upgrade
        self.clientVersion = clientVersion
        self.clientKeepAlive = clientKeepAlive
    }
}

/// What the proxy does with one request head.
enum RequestDisposition: Sendable {
    case forward(ForwardPlan)
    /// CONNECT: open a tunnel to the target.
    case tunnel(RequestTarget)
    /// Answer with a local page; `url` is what the client asked for, for the page and the log.
    case reject(LocalPage, reason: String, url: String)
    /// `Max-Forwards: 0` on OPTIONS or TRACE: the proxy is the final recipient.
    case answer(HTTPResponseHead, body: String)
}
