import NIOHTTP1

/// How one origin response goes back to the client.
struct ResponsePlan: Sendable {
    var clientHead: HTTPResponseHead
    /// Framing on the origin connection.
    var originFraming: BodyFraming
    /// Framing towards the client (may differ: read-until-close becomes chunked for HTTP/1.1).
    var clientFraming: BodyFraming
    /// Whether the client connection stays open after this response.
    var keepClientAlive: Bool
    /// Whether the origin connection may be pooled after this response (if fully read).
    var originReusable: Bool
    /// 101 Switching Protocols: both sides become a tunnel after the head.
    var switchesProtocols: Bool
}

/// Rewrites an origin response head for the client. Pure.
enum ResponsePlanner {
    static func plan(_ head: HTTPResponseHead, for request: ForwardPlan, viaName: String) -> ResponsePlan {
        var headers = head.headers
        let fields = HeadFields(headers)
        let originFraming = fields.responseFraming(status: head.status, requestMethod: request.method)
        let originKeepAlive = fields.wantsKeepAlive(version: head.version)
        let switching = head.status == .switchingProtocols && request.upgrade != nil
        let upgrade = fields.upgrade
        fields.stripHopByHop(&headers)

        var keepClient = request.clientKeepAlive
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
            if isHTTP11Client {
                clientFraming = .chunked
                headers.remove(name: "Content-Length")
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                clientFraming = .untilClose
                headers.remove(name: "Content-Length")
                keepClient = false
            }
        }
        if switching {
            keepClient = false
            headers.add(name: "Connection", value: "Upgrade")
            if let upgrade { headers.add(name: "Upgrade", value: upgrade) }
        } else if request.upgrade != nil {
            // The client's decoder stopped at the upgrade request: the connection cannot carry more.
            keepClient = false
        }
        if !switching {
            if !keepClient {
                headers.add(name: "Connection", value: "close")
            } else if !isHTTP11Client {
                headers.add(name: "Connection", value: "keep-alive")
            }
        }
        headers.appendToList(name: "Via", value: head.version.minor == 0 ? "1.0 \(viaName)" : "1.1 \(viaName)")
        let clientHead = HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
        return ResponsePlan(
            clientHead: clientHead, originFraming: originFraming, clientFraming: clientFraming,
            keepClientAlive: keepClient, originReusable: originKeepAlive && originFraming != .untilClose && !switching,
            switchesProtocols: switching)
    }
}
