import NIOCore

/// One ICAP server connection's exchanges, request by request, as actions: when to answer,
/// what to echo, what to drop. No channel: the handler carries the actions out.
///
/// A final answer (`204`, a block page, an error, OPTIONS) is written once the client has
/// sent what it is going to send without being asked: at the end of the preview, or at the
/// end of the request (its body read and dropped). An echo (the message unchanged or with a
/// new head, for a client that does not allow 204) streams the body back as it comes; after a
/// preview it first asks for the rest with `100 Continue`, then sends the preview bytes it kept.
struct ICAPServerStateMachine {
    /// What to answer the request in progress.
    enum Answer {
        /// A whole response, written when the request's own bytes are in.
        case final(ICAPResponseHead, ICAPEncapsulatedHeads, body: ByteBuffer?)
        /// A response head whose body is the request's body.
        case echo(ICAPResponseHead, ICAPEncapsulatedHeads)
    }

    enum Action {
        case none
        case write([ICAPResponsePart])
    }

    private enum State {
        case idle
        /// Reading a request; `kept` holds preview bytes an echo will need; `streaming` once the
        /// echo's head is out and body parts go straight back.
        case reading(answer: Answer, inPreview: Bool, kept: [ByteBuffer], streaming: Bool)
    }

    private var state: State = .idle

    var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    /// A request head arrived; `answer` is what to reply.
    mutating func head(answer: Answer, hasPreview: Bool) -> Action {
        switch answer {
        case .echo(let head, let heads) where !hasPreview:
            self.state = .reading(answer: answer, inPreview: false, kept: [], streaming: true)
            return .write([.head(head, heads)])
        default:
            self.state = .reading(answer: answer, inPreview: hasPreview, kept: [], streaming: false)
            return .none
        }
    }

    mutating func body(_ data: ByteBuffer) -> Action {
        guard case .reading(let answer, let inPreview, var kept, let streaming) = self.state else { return .none }
        if streaming { return .write([.body(data)]) }
        if case .echo = answer {
            kept.append(data)
            self.state = .reading(answer: answer, inPreview: inPreview, kept: kept, streaming: false)
        }
        return .none
    }

    /// The preview ended; with `ieof` the request's `.end` follows at once.
    mutating func previewEnd(ieof: Bool) -> Action {
        guard case .reading(let answer, _, let kept, _) = self.state else { return .none }
        if ieof {
            self.state = .reading(answer: answer, inPreview: false, kept: kept, streaming: false)
            return .none
        }
        switch answer {
        case .final:
            // A final answer ends the request at the preview: nothing more comes.
            self.state = .idle
            return .write(Self.parts(of: answer))
        case .echo(let head, let heads):
            self.state = .reading(answer: answer, inPreview: false, kept: [], streaming: true)
            return .write(
                [.head(ICAPResponseHead(status: .continue), .none), .end, .head(head, heads)]
                    + kept.map { .body($0) })
        }
    }

    mutating func end() -> Action {
        guard case .reading(let answer, _, let kept, let streaming) = self.state else { return .none }
        self.state = .idle
        if streaming { return .write([.end]) }
        switch answer {
        case .final:
            return .write(Self.parts(of: answer))
        case .echo(let head, let heads):
            return .write([.head(head, heads)] + kept.map { .body($0) } + [.end])
        }
    }

    private static func parts(of answer: Answer) -> [ICAPResponsePart] {
        guard case .final(let head, let heads, let body) = answer else { return [] }
        var parts: [ICAPResponsePart] = [.head(head, heads)]
        if heads.hasBody, let body, body.readableBytes > 0 { parts.append(.body(body)) }
        parts.append(.end)
        return parts
    }
}
