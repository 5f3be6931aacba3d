import NIOCore
import NIOHTTP1

/// The life of one client connection, one exchange at a time: request head → forward, tunnel
/// or local answer → response → idle again (keep-alive) or close.
///
/// Pure: the `ClientConnectionHandler` feeds it events and carries out the returned actions.
struct ExchangeStateMachine {
    enum State {
        /// Waiting for the next request head.
        case idle
        /// The head was planned and allowed; the remote REQMOD services are being asked about
        /// it (a body streams to them outside the machine, and back in once they are done).
        /// `requestComplete`: the client's end came (a bodiless request's, while it waits).
        case adapting(RequestDisposition, requestComplete: Bool)
        /// The head was planned; an origin connection is being leased or opened. Body parts
        /// that arrive meanwhile wait here.
        case connecting(ForwardPlan, pendingBody: [ByteBuffer], requestComplete: Bool)
        /// The request goes to the origin; the response comes back.
        case forwarding(ForwardPlan, requestComplete: Bool, response: ResponseProgress)
        /// A local answer is being written. The exchange is over once the answer is written and
        /// the request has ended; with `closeAfter` the connection closes instead.
        case answeredLocally(requestComplete: Bool, responseWritten: Bool, closeAfter: Bool)
        /// CONNECT: waiting for the target, then the connection stops being HTTP.
        case tunnelling
        case closed
    }

    enum ResponseProgress {
        case awaitingHead
        case streaming(ResponsePlan)
    }

    enum Action {
        case none
        /// Ask the remote REQMOD services about the request.
        case adaptRequest
        /// Lease (or, when `fresh`, open) an origin connection for this plan.
        case connectOrigin(ForwardPlan, fresh: Bool)
        /// Open a tunnel to the CONNECT target.
        case connectTunnel(RequestTarget)
        /// Write a page; close the connection after it when `closeAfter`.
        case respondLocally(LocalPage, reason: String, url: String, closeAfter: Bool)
        case answer(HTTPResponseHead, body: ByteBuffer, closeAfter: Bool)
        /// The origin is connected: send the head and whatever body arrived meanwhile.
        case sendRequest(ForwardPlan, body: [ByteBuffer], end: Bool)
        case sendBody(ByteBuffer)
        case sendEnd
        /// Write the head; `chunked` says how the body is framed to the client.
        case writeResponseHead(ResponsePlan)
        case writeInformational(ResponsePlan)
        case writeResponseBody(ByteBuffer)
        /// The response is complete: end it, give the origin connection back to the pool (or
        /// close it), then keep the client for the next request or close it.
        case finishResponse(reuseOrigin: Bool, keepClient: Bool)
        /// 101 Switching Protocols: write the head, then splice both connections.
        case switchToTunnel(ResponsePlan)
        /// A local answer is complete and so is the request: ready for the next one.
        case localExchangeComplete
        /// Something failed after the response started: the only honest signal left is to close.
        case abort(closeOrigin: Bool)
    }

    private(set) var state: State = .idle
    private let maxRequestBodyBytes: Int64
    private var requestBodyBytes: Int64 = 0
    private let via: ViaEntries

    init(maxRequestBodyBytes: Int64, viaName: String) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.via = ViaEntries(name: viaName)
    }

    /// The plan of the request being forwarded, if any.
    var planInFlight: ForwardPlan? {
        switch self.state {
        case .connecting(let plan, _, _), .forwarding(let plan, _, _): return plan
        default: return nil
        }
    }

    var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    // MARK: client events

    /// A request head, planned and decided. With `adapt`, the remote REQMOD services are
    /// asked first and the exchange goes on with `adaptationFinished`; a body, if any, reaches
    /// the machine (`requestBody`, `requestEnd`) only after that, from the services.
    mutating func requestHead(
        _ disposition: RequestDisposition, unreadBytesMayFollow: Bool, adapt: Bool = false
    ) -> Action {
        guard case .idle = self.state else {
            self.state = .closed
            return .abort(closeOrigin: true)
        }
        self.requestBodyBytes = 0
        if adapt {
            self.state = .adapting(disposition, requestComplete: false)
            return .adaptRequest
        }
        return self.begin(disposition, unreadBytesMayFollow: unreadBytesMayFollow, requestComplete: false)
    }

    /// The REQMOD services are done: `replacement` is what they made of the request (nil:
    /// forward it as planned) and `body` its new body (nil: the body received). After a
    /// CONNECT, `unreadBytesMayFollow` closes the connection after any answer but a tunnel.
    mutating func adaptationFinished(
        _ replacement: RequestDisposition?, body: [ByteBuffer]? = nil, unreadBytesMayFollow: Bool
    ) -> Action {
        guard case .adapting(let original, let complete) = self.state else { return .none }
        return self.begin(
            replacement ?? original, unreadBytesMayFollow: unreadBytesMayFollow, requestComplete: complete,
            pendingBody: body ?? [])
    }

    /// The REQMOD services failed once the request had begun to go on (or before, for a body
    /// streaming to them): a 503 page while nothing of the response went out, else a close.
    mutating func requestAdaptationFailed(reason: String, unreadBytesMayFollow: Bool) -> Action {
        switch self.state {
        case .adapting(let disposition, let complete):
            var url = ""
            if case .forward(let plan) = disposition { url = plan.target.absoluteURL }
            return self.begin(
                .reject(.serviceUnavailable, reason: reason, url: url), unreadBytesMayFollow: unreadBytesMayFollow,
                requestComplete: complete)
        case .connecting(let plan, _, _), .forwarding(let plan, _, .awaitingHead):
            self.state = .answeredLocally(requestComplete: false, responseWritten: false, closeAfter: true)
            return .respondLocally(
                .serviceUnavailable, reason: reason, url: plan.target.absoluteURL, closeAfter: true)
        case .forwarding(_, _, .streaming):
            self.state = .closed
            return .abort(closeOrigin: true)
        default:
            return .none
        }
    }

    private mutating func begin(
        _ disposition: RequestDisposition, unreadBytesMayFollow: Bool, requestComplete: Bool,
        pendingBody: [ByteBuffer] = []
    ) -> Action {
        switch disposition {
        case .forward(let plan):
            self.state = .connecting(plan, pendingBody: pendingBody, requestComplete: requestComplete)
            return .connectOrigin(plan, fresh: false)
        case .tunnel(let target):
            self.state = .tunnelling
            return .connectTunnel(target)
        case .reject(let page, let reason, let url):
            // Framing or syntax errors leave the rest of the stream meaningless: close.
            // A body we will not read in full makes the stream unusable too.
            let closeAfter = page.status == .badRequest || page.status == .payloadTooLarge || unreadBytesMayFollow
            self.state = .answeredLocally(
                requestComplete: requestComplete, responseWritten: false, closeAfter: closeAfter)
            return .respondLocally(page, reason: reason, url: url, closeAfter: closeAfter)
        case .answer(let head, let body):
            self.state = .answeredLocally(
                requestComplete: requestComplete, responseWritten: false, closeAfter: unreadBytesMayFollow)
            return .answer(head, body: body, closeAfter: unreadBytesMayFollow)
        }
    }

    mutating func requestBody(_ buffer: ByteBuffer) -> Action {
        self.requestBodyBytes += Int64(buffer.readableBytes)
        let tooLarge = self.maxRequestBodyBytes > 0 && self.requestBodyBytes > self.maxRequestBodyBytes
        switch self.state {
        case .connecting(let plan, var pending, let complete):
            if tooLarge {
                self.state = .answeredLocally(requestComplete: false, responseWritten: false, closeAfter: true)
                return .respondLocally(
                    .payloadTooLarge, reason: "the request body is larger than \(self.maxRequestBodyBytes) bytes",
                    url: plan.target.absoluteURL, closeAfter: true)
            }
            pending.append(buffer)
            self.state = .connecting(plan, pendingBody: pending, requestComplete: complete)
            return .none
        case .forwarding(let plan, let complete, let response):
            if tooLarge {
                if case .awaitingHead = response {
                    self.state = .answeredLocally(requestComplete: false, responseWritten: false, closeAfter: true)
                    return .respondLocally(
                        .payloadTooLarge, reason: "the request body is larger than \(self.maxRequestBodyBytes) bytes",
                        url: plan.target.absoluteURL, closeAfter: true)
                }
                self.state = .closed
                return .abort(closeOrigin: true)
            }
            if complete { return .none }
            return .sendBody(buffer)
        case .idle, .adapting, .answeredLocally, .tunnelling, .closed:
            return .none
        }
    }

    mutating func requestEnd() -> Action {
        switch self.state {
        case .adapting(let disposition, _):
            self.state = .adapting(disposition, requestComplete: true)
            return .none
        case .connecting(let plan, let pending, _):
            self.state = .connecting(plan, pendingBody: pending, requestComplete: true)
            return .none
        case .forwarding(let plan, _, let response):
            self.state = .forwarding(plan, requestComplete: true, response: response)
            return .sendEnd
        case .answeredLocally(_, let written, let closeAfter):
            if written && !closeAfter {
                self.state = .idle
                return .localExchangeComplete
            }
            self.state = .answeredLocally(requestComplete: true, responseWritten: written, closeAfter: closeAfter)
            return .none
        case .idle, .tunnelling, .closed:
            return .none
        }
    }

    /// The local answer has been written in full.
    mutating func localResponseWritten() -> Action {
        guard case .answeredLocally(let complete, _, let closeAfter) = self.state else { return .none }
        if closeAfter {
            self.state = .closed
            return .abort(closeOrigin: false)
        }
        if complete {
            self.state = .idle
            return .localExchangeComplete
        }
        // The request's end is still to come (it may be in the next read).
        self.state = .answeredLocally(requestComplete: false, responseWritten: true, closeAfter: false)
        return .none
    }

    // MARK: origin events

    mutating func originConnected() -> Action {
        guard case .connecting(let plan, let pending, let complete) = self.state else { return .none }
        self.state = .forwarding(plan, requestComplete: complete, response: .awaitingHead)
        return .sendRequest(plan, body: pending, end: complete)
    }

    mutating func originConnectFailed(_ error: OriginConnectError) -> Action {
        guard case .connecting(let plan, _, let complete) = self.state else { return .none }
        self.state = .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete)
        return .respondLocally(error.page, reason: error.detail, url: plan.target.absoluteURL, closeAfter: !complete)
    }

    mutating func responseHead(_ head: OriginResponseHead) -> Action {
        guard case .forwarding(let plan, let complete, .awaitingHead) = self.state else {
            self.state = .closed
            return .abort(closeOrigin: true)
        }
        if head.status < 200 && head.status != 101 {
            // 100 Continue and friends pass through; the final head is still to come.
            return .writeInformational(ResponsePlanner.informational(head, via: self.via))
        }
        let response = ResponsePlanner.plan(head, for: plan, via: self.via)
        if head.status == 101 && !response.switchesProtocols {
            // Nothing asked for a new protocol: what follows cannot be read as HTTP.
            self.state = .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete)
            return .respondLocally(
                .originUnreachable, reason: "the origin switched protocols though the request did not ask to",
                url: plan.target.absoluteURL, closeAfter: !complete)
        }
        if response.switchesProtocols {
            self.state = .tunnelling
            return .switchToTunnel(response)
        }
        self.state = .forwarding(plan, requestComplete: complete, response: .streaming(response))
        return .writeResponseHead(response)
    }

    mutating func responseBody(_ buffer: ByteBuffer) -> Action {
        guard case .forwarding(_, _, .streaming(let response)) = self.state else { return .none }
        // A response without a body (to HEAD, a 204, a 304) gets none, whatever a RESPMOD
        // service sent along: bytes there would be read as the next response.
        guard response.clientFraming != .none else { return .none }
        return .writeResponseBody(buffer)
    }

    mutating func responseEnd() -> Action {
        guard case .forwarding(_, let complete, .streaming(let response)) = self.state else { return .none }
        // An origin that answered before reading the whole request body cannot be reused, and
        // the client's unsent body would be mistaken for its next request.
        let keepClient = response.keepClientAlive && complete
        self.state = keepClient ? .idle : .closed
        return .finishResponse(reuseOrigin: response.originReusable && complete, keepClient: keepClient)
    }

    /// The origin connection closed or failed before the response was complete.
    mutating func originEnded(error: (any Error)?) -> Action {
        switch self.state {
        case .forwarding(let plan, let complete, .awaitingHead):
            let page: LocalPage = error is OriginTimeoutError ? .originTimeout : .originUnreachable
            let reason = error.map { "\($0)" } ?? "the origin closed the connection without answering"
            self.state = .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete)
            return .respondLocally(page, reason: reason, url: plan.target.absoluteURL, closeAfter: !complete)
        case .forwarding(_, let complete, .streaming(let response)):
            if error == nil && response.originFraming == .untilClose {
                // Read-until-close: the close is the end of the body.
                let keepClient = response.keepClientAlive && complete
                self.state = keepClient ? .idle : .closed
                return .finishResponse(reuseOrigin: false, keepClient: keepClient)
            }
            self.state = .closed
            return .abort(closeOrigin: true)
        case .idle, .adapting, .connecting, .answeredLocally, .tunnelling, .closed:
            return .none
        }
    }

    /// A RESPMOD service could not adapt the response: before its head went out the client
    /// gets a 503 page, after it the connection closes (the response cannot complete).
    mutating func responseAdaptationFailed(reason: String) -> Action {
        switch self.state {
        case .forwarding(let plan, let complete, .awaitingHead):
            self.state = .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete)
            return .respondLocally(
                .serviceUnavailable, reason: reason, url: plan.target.absoluteURL, closeAfter: !complete)
        case .forwarding(_, _, .streaming):
            self.state = .closed
            return .abort(closeOrigin: true)
        default:
            return .none
        }
    }

    /// A reused pooled connection closed before answering (the origin timed it out just as we
    /// sent): a request without a body is safe to send again on a fresh connection.
    mutating func retryOnFreshConnection() -> Action {
        guard case .forwarding(let plan, true, .awaitingHead) = self.state, plan.requestFraming == .none,
            Self.isIdempotent(plan.method)
        else {
            return .none
        }
        self.state = .connecting(plan, pendingBody: [], requestComplete: true)
        return .connectOrigin(plan, fresh: true)
    }

    /// RFC 9110 §9.2.2: only these may be sent again without the user asking.
    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }

    /// The request was found malformed (or too slow) after its head: the connection is
    /// answered with a page and closed, and nothing more goes to any origin.
    mutating func requestFailed() {
        self.state = .closed
    }

    /// The client went away: whatever is in flight is abandoned.
    mutating func clientClosed() -> Action {
        switch self.state {
        case .connecting, .forwarding:
            self.state = .closed
            return .abort(closeOrigin: true)
        default:
            self.state = .closed
            return .none
        }
    }
}
