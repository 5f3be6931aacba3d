import NIOHTTP1

/// What to do with a request the proxy will send on to an origin.
struct ForwardPlan: Sendable {
    var target: RequestTarget
    /// The request head as the origin will see it (origin-form, hop-by-hop stripped, Via added).
    var originHead: HTTPRequestHead
    var requestFraming: BodyFraming
    /// The protocol the client asked to switch to (WebSocket), passed through as a tunnel.
    var upgrade: String?
    var clientVersion: HTTPVersion
    var clientKeepAlive: Bool
    var method: HTTPMethod { self.originHead.method }
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
