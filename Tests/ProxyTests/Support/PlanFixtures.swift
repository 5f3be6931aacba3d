import NIOHTTP1

@testable import Proxy

extension ForwardPlan {
    /// A plan for `http://e.com/` as the planner would make it for a simple client request.
    static func fixture(
        method: HTTPMethod = .GET, framing: BodyFraming = .none, upgrade: String? = nil,
        clientVersion: HTTPVersion = .http1_1, keepAlive: Bool = true
    ) -> ForwardPlan {
        ForwardPlan(
            target: RequestTarget(scheme: "http", host: "e.com", port: 80, originForm: "/"),
            client: ClientRequestHead(HTTPRequestHead(version: clientVersion, method: method, uri: "http://e.com/")),
            requestFraming: framing, upgrade: upgrade, clientKeepAlive: keepAlive)
    }
}
