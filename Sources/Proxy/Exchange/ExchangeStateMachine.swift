import NIOCore
import NIOHTTP1

/// The life of one client connection, one exchange at a time: request head → forward, tunnel
/// or local answer → response → idle again (keep-alive) or close.
///
/// Pure: the `ClientConnectionHandler` feeds it events and carries out the returned actions.
///
/// The states carry flags only. What the exchange in flight is working on (its plan, the
/// response's plan, body parts waiting for the origin, a disposition parked while the REQMOD
/// services look at it) is kept beside the state, so a transition copies and releases nothing.
struct ExchangeStateMachine {
    enum State: Equatable {
        /// Waiting for the next request head.
        case idle
        /// The head was planned and allowed; the remote REQMOD services are being asked about
        /// it (a body streams to them outside the machine, and back in once they are done).
        /// `requestComplete`: the client's end came (a bodiless request's, while it waits).
        /// The planned disposition is parked meanwhile.
        case adapting(requestComplete: Bool)
        /// The head was planned (`planInFlight`); an origin connection is being leased or
        /// opened. Body parts that arrive meanwhile wait in `pendingBody`.
        case connecting(requestComplete: Bool)
        /// The request goes to the origin; the response comes back. Once its head came
        /// (`responseStarted`), `responsePlan` says how it goes on to the client.
        case forwarding(requestComplete: Bool, responseStarted: Bool)
        /// A local answer is being written. The exchange is over once the answer is written and
        /// the request has ended; with `closeAfter` the connection closes instead.
        case answeredLocally(requestComplete: Bool, responseWritten: Bool, closeAfter: Bool)
        /// CONNECT: waiting for the target, then the connection stops being HTTP.
        case tunnelling
        case closed
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
    /// The plan of the request being forwarded: set while `connecting` and `forwarding`.
    private(set) var planInFlight: ForwardPlan?
    /// How the response goes to the client: set while `forwarding` once its head came.
    private(set) var responsePlan: ResponsePlan?
    /// Body parts that came while `connecting`.
    private var pendingBody: [ByteBuffer] = []
    /// The planned disposition, while `adapting`.
    private var parkedDisposition: RequestDisposition?
    private let maxRequestBodyBytes: Int64
    private var requestBodyBytes: Int64 = 0
    private let via: ViaEntries

    init(maxRequestBodyBytes: Int64, viaName: String) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.via = ViaEntries(name: viaName)
    }

    /// Leaves the exchange in flight for `state` (not `connecting` or `forwarding`): what it
    /// was working on goes.
    private mutating func leaveExchange(for state: State) {
        self.state = state
        self.planInFlight = nil
        self.responsePlan = nil
        if !self.pendingBody.isEmpty { self.pendingBody = [] }
        self.parkedDisposition = nil
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
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        }
        self.requestBodyBytes = 0
        if adapt {
            self.state = .adapting(requestComplete: false)
            self.parkedDisposition = disposition
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
        guard case .adapting(let complete) = self.state, let original = self.parkedDisposition else { return .none }
        self.parkedDisposition = nil
        return self.begin(
            replacement ?? original, unreadBytesMayFollow: unreadBytesMayFollow, requestComplete: complete,
            pendingBody: body ?? [])
    }

    /// The REQMOD services failed once the request had begun to go on (or before, for a body
    /// streaming to them): a 503 page while nothing of the response went out, else a close.
    mutating func requestAdaptationFailed(reason: String, unreadBytesMayFollow: Bool) -> Action {
        switch self.state {
        case .adapting(let complete):
            var url = ""
            if case .forward(let plan) = self.parkedDisposition { url = plan.target.absoluteURL }
            self.parkedDisposition = nil
            return self.begin(
                .reject(.serviceUnavailable, reason: reason, url: url), unreadBytesMayFollow: unreadBytesMayFollow,
                requestComplete: complete)
        case .connecting, .forwarding(_, responseStarted: false):
            let url = self.planInFlight?.target.absoluteURL ?? ""
            self.leaveExchange(for: .answeredLocally(requestComplete: false, responseWritten: false, closeAfter: true))
            return .respondLocally(.serviceUnavailable, reason: reason, url: url, closeAfter: true)
        case .forwarding(_, responseStarted: true):
            self.leaveExchange(for: .closed)
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
            self.state = .connecting(requestComplete: requestComplete)
            self.planInFlight = plan
            self.pendingBody = pendingBody
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
        case .connecting where !tooLarge:
            self.pendingBody.append(buffer)
            return .none
        case .forwarding(let complete, _) where !tooLarge:
            return complete ? .none : .sendBody(buffer)
        case .connecting, .forwarding(_, responseStarted: false):
            // Too large, and nothing of the response went out yet: a 413 page.
            let url = self.planInFlight?.target.absoluteURL ?? ""
            self.leaveExchange(for: .answeredLocally(requestComplete: false, responseWritten: false, closeAfter: true))
            return .respondLocally(
                .payloadTooLarge, reason: "the request body is larger than \(self.maxRequestBodyBytes) bytes",
                url: url, closeAfter: true)
        case .forwarding(_, responseStarted: true):
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        case .idle, .adapting, .answeredLocally, .tunnelling, .closed:
            return .none
        }
    }

    mutating func requestEnd() -> Action {
        switch self.state {
        case .adapting:
            self.state = .adapting(requestComplete: true)
            return .none
        case .connecting:
            self.state = .connecting(requestComplete: true)
            return .none
        case .forwarding(_, let responseStarted):
            self.state = .forwarding(requestComplete: true, responseStarted: responseStarted)
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
        guard case .connecting(let complete) = self.state, let plan = self.planInFlight else { return .none }
        self.state = .forwarding(requestComplete: complete, responseStarted: false)
        var body: [ByteBuffer] = []
        swap(&body, &self.pendingBody)
        return .sendRequest(plan, body: body, end: complete)
    }

    mutating func originConnectFailed(_ error: OriginConnectError) -> Action {
        guard case .connecting(let complete) = self.state, let plan = self.planInFlight else { return .none }
        self.leaveExchange(
            for: .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete))
        return .respondLocally(error.page, reason: error.detail, url: plan.target.absoluteURL, closeAfter: !complete)
    }

    mutating func responseHead(_ head: OriginResponseHead) -> Action {
        guard case .forwarding(let complete, responseStarted: false) = self.state, let plan = self.planInFlight else {
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        }
        if head.status < 200 && head.status != 101 {
            // 100 Continue and friends pass through; the final head is still to come.
            return .writeInformational(ResponsePlanner.informational(head, via: self.via))
        }
        let response = ResponsePlanner.plan(head, for: plan, via: self.via)
        if head.status == 101 && !response.switchesProtocols {
            // Nothing asked for a new protocol: what follows cannot be read as HTTP.
            self.leaveExchange(
                for: .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete))
            return .respondLocally(
                .originUnreachable, reason: "the origin switched protocols though the request did not ask to",
                url: plan.target.absoluteURL, closeAfter: !complete)
        }
        if response.switchesProtocols {
            self.leaveExchange(for: .tunnelling)
            return .switchToTunnel(response)
        }
        self.state = .forwarding(requestComplete: complete, responseStarted: true)
        self.responsePlan = response
        return .writeResponseHead(response)
    }

    mutating func responseBody(_ buffer: ByteBuffer) -> Action {
        guard case .forwarding(_, responseStarted: true) = self.state, let response = self.responsePlan else {
            return .none
        }
        // A response without a body (to HEAD, a 204, a 304) gets none, whatever a RESPMOD
        // service sent along: bytes there would be read as the next response.
        guard response.clientFraming != .none else { return .none }
        return .writeResponseBody(buffer)
    }

    mutating func responseEnd() -> Action {
        guard case .forwarding(let complete, responseStarted: true) = self.state, let response = self.responsePlan
        else { return .none }
        // An origin that answered before reading the whole request body cannot be reused, and
        // the client's unsent body would be mistaken for its next request.
        let keepClient = response.keepClientAlive && complete
        self.leaveExchange(for: keepClient ? .idle : .closed)
        return .finishResponse(reuseOrigin: response.originReusable && complete, keepClient: keepClient)
    }

    /// The origin connection closed or failed before the response was complete.
    mutating func originEnded(error: (any Error)?) -> Action {
        switch self.state {
        case .forwarding(let complete, responseStarted: false):
            let page: LocalPage = error is OriginTimeoutError ? .originTimeout : .originUnreachable
            let reason = error.map { "\($0)" } ?? "the origin closed the connection without answering"
            let url = self.planInFlight?.target.absoluteURL ?? ""
            self.leaveExchange(
                for: .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete))
            return .respondLocally(page, reason: reason, url: url, closeAfter: !complete)
        case .forwarding(let complete, responseStarted: true):
            if error == nil, let response = self.responsePlan, response.originFraming == .untilClose {
                // Read-until-close: the close is the end of the body.
                let keepClient = response.keepClientAlive && complete
                self.leaveExchange(for: keepClient ? .idle : .closed)
                return .finishResponse(reuseOrigin: false, keepClient: keepClient)
            }
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        case .idle, .adapting, .connecting, .answeredLocally, .tunnelling, .closed:
            return .none
        }
    }

    /// A RESPMOD service could not adapt the response: before its head went out the client
    /// gets a 503 page, after it the connection closes (the response cannot complete).
    mutating func responseAdaptationFailed(reason: String) -> Action {
        switch self.state {
        case .forwarding(let complete, responseStarted: false):
            let url = self.planInFlight?.target.absoluteURL ?? ""
            self.leaveExchange(
                for: .answeredLocally(requestComplete: complete, responseWritten: false, closeAfter: !complete))
            return .respondLocally(.serviceUnavailable, reason: reason, url: url, closeAfter: !complete)
        case .forwarding(_, responseStarted: true):
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        default:
            return .none
        }
    }

    /// A reused pooled connection closed before answering (the origin timed it out just as we
    /// sent): a request without a body is safe to send again on a fresh connection.
    mutating func retryOnFreshConnection() -> Action {
        guard case .forwarding(requestComplete: true, responseStarted: false) = self.state,
            let plan = self.planInFlight, plan.requestFraming == .none, Self.isIdempotent(plan.method)
        else {
            return .none
        }
        self.state = .connecting(requestComplete: true)
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
        self.leaveExchange(for: .closed)
    }

    /// The client went away: whatever is in flight is abandoned.
    mutating func clientClosed() -> Action {
        switch self.state {
        case .connecting, .forwarding:
            self.leaveExchange(for: .closed)
            return .abort(closeOrigin: true)
        default:
            self.leaveExchange(for: .closed)
            return .none
        }
    }
}
