import NIOCore

/// One ICAP exchange as the client sees it, both directions at once, since a service may
/// answer while the request body is still streaming to it.
///
/// The request side: the head is written, then body parts; a request with a `Preview` ends its
/// preview (`previewEnded`) and, unless the body ended inside it, waits for `100 Continue`
/// before the rest of its body; a final answer to the preview ends the request there. The
/// response side: an optional `100 Continue` (head and end), then the final head, its body
/// parts and its end.
///
/// Pure: the handler feeds it events and carries out the returned action.
public struct ICAPClientExchangeStateMachine: Sendable {
    public enum RequestState: Sendable, Equatable {
        case idle
        /// The head is written; body parts (all of them, or the preview's) are being written.
        case sending
        /// The preview ended without `ieof`: `100 Continue` or a final answer is awaited.
        case previewSent
        /// `100 Continue` came: the rest of the body is being written.
        case continuing
        /// The request's end is written, or a final answer to the preview cut it short.
        case complete
    }

    public enum ResponseState: Sendable, Equatable {
        case awaiting
        /// A `100 Continue` head came; its end is still to come.
        case continueHead
        /// The final head came; its body is being read.
        case receiving(statusCode: Int)
        case done
    }

    public enum Action: Sendable, Equatable {
        case none
        /// `100 Continue`: write the rest of the body and the request's end.
        case sendRest
        /// Hand the final head to the exchange's receiver.
        case deliverHead
        /// Hand a body part to the receiver.
        case deliverBody
        /// The final answer is complete. The connection may serve another exchange only when
        /// `reusable` (the request was written to its end, or cut short by the answer).
        case deliverEnd(reusable: Bool)
        /// The exchange failed: the connection cannot be used again.
        case fail(ICAPClientError)
    }

    public private(set) var request: RequestState = .idle
    public private(set) var response: ResponseState = .awaiting
    public private(set) var failed = false

    public init() {}

    /// The head is written; body parts may follow.
    public mutating func begin() {
        guard self.request == .idle else { return }
        self.request = .sending
        self.response = .awaiting
    }

    /// Whether body parts may be written now.
    public var acceptsBody: Bool { !self.failed && (self.request == .sending || self.request == .continuing) }

    /// The preview's zero chunk is written; with `ieof` the body ended inside it.
    public mutating func previewEnded(ieof: Bool) {
        guard self.request == .sending else { return }
        self.request = ieof ? .complete : .previewSent
    }

    /// The request's end is written.
    public mutating func requestEnded() {
        guard self.request == .sending || self.request == .continuing else { return }
        self.request = .complete
    }

    public mutating func responseHead(statusCode: Int) -> Action {
        guard !self.failed else { return .none }
        guard self.response == .awaiting else { return self.fail(.malformed("an answer to no request")) }
        if statusCode == 100 {
            guard self.request == .previewSent else {
                return self.fail(.malformed("a 100 Continue to a request without a pending preview"))
            }
            self.request = .continuing
            self.response = .continueHead
            return .sendRest
        }
        guard statusCode >= 200 else { return self.fail(.malformed("an unexpected \(statusCode) answer")) }
        // A final answer to the preview: the request ends here, the rest of its body unsent.
        if self.request == .previewSent { self.request = .complete }
        self.response = .receiving(statusCode: statusCode)
        return .deliverHead
    }

    public mutating func responseBody() -> Action {
        guard !self.failed else { return .none }
        guard case .receiving = self.response else { return self.fail(.malformed("a body part out of order")) }
        return .deliverBody
    }

    public mutating func responseEnd() -> Action {
        guard !self.failed else { return .none }
        switch self.response {
        case .continueHead:
            // The end of the `100 Continue`: the final answer follows.
            self.response = .awaiting
            return .none
        case .receiving:
            self.response = .done
            return .deliverEnd(reusable: self.request == .complete)
        case .awaiting, .done:
            return self.fail(.malformed("a response end out of order"))
        }
    }

    /// Whether the exchange waits on the service (its read deadline runs): the request is
    /// written (in full, or up to its preview) or the answer has begun, and it is not over.
    public var awaitsService: Bool {
        guard !self.failed, self.response != .done else { return false }
        if case .receiving = self.response { return true }
        return self.request == .complete || self.request == .previewSent
    }

    /// The service stayed silent past the read deadline.
    public mutating func readTimedOut() -> Action { self.fail(.timeout) }

    /// The connection closed before the final answer ended.
    public mutating func closed() -> Action { self.fail(.closed) }

    /// The codec refused the answer.
    public mutating func malformed(_ detail: String) -> Action { self.fail(.malformed(detail)) }

    /// Whether the exchange is over (either way).
    public var isFinished: Bool { self.failed || self.response == .done }

    private mutating func fail(_ error: ICAPClientError) -> Action {
        guard !self.failed, self.request != .idle, self.response != .done else {
            self.failed = true
            return .none
        }
        self.failed = true
        return .fail(error)
    }
}
