import NIOCore
import NIOHTTP1

/// What to do with a request the proxy will send on to an origin. A class: it travels
/// through several states of the exchange, and a reference is cheaper to carry than its fields.
final class ForwardPlan: Sendable {
    let target: RequestTarget
    /// The head as the client sent it, its field lines as bytes; `OriginRequestSerializer`
    /// writes the origin's version of it.
    let client: ClientRequestHead
    let requestFraming: BodyFraming
    /// The protocol the client asked to switch to (WebSocket), passed through as a tunnel.
    let upgrade: String?
    let clientKeepAlive: Bool
    /// `Max-Forwards` as it goes on (decremented), for OPTIONS and TRACE.
    let maxForwards: Int?
    /// This proxy's `Via` entry.
    let via: String
    /// The `X-Forwarded-For` rule and the address it adds.
    let forwardedFor: ForwardedForMode
    let clientIP: String
    /// Where the request is sent: the target's host and port, unless the policy intercepts it
    /// (the request itself, Host header included, is unchanged).
    let connectHost: String
    let connectPort: Int

    var fields: HeadFields { self.client.fields }
    var method: HTTPMethod { self.client.method }
    var clientVersion: HTTPVersion { self.client.version }
    /// The client's head in NIO's form, made when asked (for the RESPMOD services).
    var clientHead: HTTPRequestHead { self.client.httpHead }

    init(
        target: RequestTarget, client: ClientRequestHead, requestFraming: BodyFraming,
        upgrade: String?, clientKeepAlive: Bool, maxForwards: Int? = nil, via: String = "1.1 portcullis",
        forwardedFor: ForwardedForMode = .append, clientIP: String = "-", connectTo: (host: String, port: Int)? = nil
    ) {
        self.target = target
        self.client = client
        self.requestFraming = requestFraming
        self.upgrade = upgrade
        self.clientKeepAlive = clientKeepAlive
        self.maxForwards = maxForwards
        self.via = via
        self.forwardedFor = forwardedFor
        self.clientIP = clientIP
        self.connectHost = connectTo?.host ?? target.host
        self.connectPort = connectTo?.port ?? target.port
    }

    /// The same request, sent to another host and port.
    func intercepted(host: String, port: Int) -> ForwardPlan {
        ForwardPlan(
            target: self.target, client: self.client, requestFraming: self.requestFraming,
            upgrade: self.upgrade, clientKeepAlive: self.clientKeepAlive, maxForwards: self.maxForwards, via: self.via,
            forwardedFor: self.forwardedFor, clientIP: self.clientIP, connectTo: (host, port))
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
    case answer(HTTPResponseHead, body: ByteBuffer)
}
