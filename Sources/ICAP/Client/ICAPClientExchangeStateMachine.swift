import NIOCore

/// One ICAP exchange as the client sees it: the head is written (with the preview, if the
/// request has a body and a `Preview`), then either the rest of the body after `100 Continue`
/// or nothing more, then the final response is read to its end. Pure: the handler feeds it
/// events and carries out the returned action.
public struct ICAPClientExchangeStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        case idle
        /// The head (and the whole body, or none) is written; the final answer is awaited.
        case awaitingResponse
        /// The head and the preview are written; `100 Continue` or a final answer is awaited.
        case previewSent
        /// `100 Continue` came: the rest of the body is written; its `.end` part is still to come.
        case continued
        /// The final response head came; its body is being read.
        case receiving(statusCode: Int)
        case done
        case failed
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Write the rest of the body and the request's `.end`.
        case sendRest
        /// The final response is complete.
        case deliver
        /// The exchange failed: the connection cannot be used again.
        case fail(ICAPClientError)
    }

    public private(set) var state: State = .idle

    public init() {}

    /// The request was written: whole (`previewOnly: false`) or up to its preview.
    public mutating func requestWritten(previewOnly: Bool) {
        guard case .idle = self.state else { return }
        self.state = previewOnly ? .previewSent : .awaitingResponse
    }

    public mutating func responseHead(statusCode: Int) -> Action {
        switch self.state {
        case .previewSent where statusCode == 100:
            self.state = .continued
            return .sendRest
        case .awaitingResponse, .previewSent, .continued:
            guard statusCode >= 200 else { return self.fail(.malformed("an unexpected \(statusCode) answer")) }
            self.state = .receiving(statusCode: statusCode)
            return .none
        case .idle, .receiving, .done, .failed:
            return self.fail(.malformed("an answer to no request"))
        }
    }

    public mutating func responseEnd() -> Action {
        switch self.state {
        case .continued:
            // The end of the `100 Continue`: the final answer follows.
            return .none
        case .receiving:
            self.state = .done
            return .deliver
        default:
            return self.fail(.malformed("a response end out of order"))
        }
    }

    /// The service stayed silent past the read deadline.
    public mutating func readTimedOut() -> Action { self.fail(.timeout) }

    /// The connection closed before the final answer ended.
    public mutating func closed() -> Action { self.fail(.closed) }

    /// The codec refused the answer.
    public mutating func malformed(_ detail: String) -> Action { self.fail(.malformed(detail)) }

    /// Whether the exchange is over (either way).
    public var isFinished: Bool { self.state == .done || self.state == .failed }

    private mutating func fail(_ error: ICAPClientError) -> Action {
        switch self.state {
        case .idle, .done, .failed:
            self.state = .failed
            return .none
        default:
            self.state = .failed
            return .fail(error)
        }
    }
}
