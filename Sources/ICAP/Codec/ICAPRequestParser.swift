import NIOCore

/// ICAP requests from raw bytes, one part at a time: the server side's state machine. Pure: the
/// ``ICAPRequestDecoder`` feeds it what the socket delivers and tells it what the server answered.
///
/// Whether more body follows a preview that ended without `ieof` depends on the server's answer
/// (RFC 3507 §4.5): after `100 Continue` the rest of the body comes, after a final response the
/// next request does. ``responseWritten(statusCode:)`` tells the parser which.
struct ICAPRequestParser {
    private enum State {
        case head
        case message(pendingHead: ICAPRequestHead?, EncapsulatedMessageParser)
        case failed(ICAPParseError)
    }

    private enum PreviewDecision {
        case `continue`, final
    }

    private var state = State.head
    private var scanner = HeadBlockScanner()
    let maxHeaderBytes: Int
    /// Requests whose head has been parsed, and final responses the server has written: the next
    /// response written answers request number `finalResponses`.
    private var requestsStarted = 0
    private var finalResponses = 0
    /// What the server answered the current request before its preview ended.
    private var decision: PreviewDecision?

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The next part from `buffer` (consuming what it uses), or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> ICAPRequestPart? {
        do throws(ICAPParseError) {
            return try self.nextPart(&buffer)
        } catch {
            self.state = .failed(error)
            throw error
        }
    }

    /// The server wrote a response head with `statusCode` (`100` or final).
    mutating func responseWritten(statusCode: Int) {
        let answersCurrent = self.requestsStarted > 0 && self.finalResponses == self.requestsStarted - 1
        if statusCode < 200 {
            guard answersCurrent else { return }
            if case .message(let head, var message) = self.state, message.isAwaitingContinue {
                message.continueAfterPreview()
                self.state = .message(pendingHead: head, message)
            } else {
                self.decision = .continue
            }
            return
        }
        if answersCurrent {
            if case .message(_, let message) = self.state, message.isAwaitingContinue {
                self.state = .head
            } else {
                self.decision = .final
            }
        }
        if self.finalResponses < self.requestsStarted { self.finalResponses += 1 }
    }

    /// The error for a connection that closed now with `buffered` bytes unparsed, or nil if
    /// no message was cut short.
    func truncation(buffered: Int) -> ICAPParseError? {
        switch self.state {
        case .head:
            return buffered > 0 ? .truncated(inside: "an ICAP request header (\(buffered) bytes received)") : nil
        case .message(_, let message):
            return message.position(received: buffered).map { .truncated(inside: $0) }
        case .failed:
            return nil
        }
    }

    private mutating func nextPart(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> ICAPRequestPart? {
        while true {
            switch self.state {
            case .failed(let error):
                throw error
            case .head:
                guard buffer.readableBytes > 0, let length = try self.scanner.scan(buffer, limit: self.maxHeaderBytes)
                else { return nil }
                let block = try ICAPHeaderBlock(Array(buffer.readableBytesView.prefix(length)))
                let (method, uri, version) = try block.requestLine()
                let encapsulated = try EncapsulatedRules.request(try block.single("Encapsulated"), method: method)
                let preview = try Self.preview(block)
                guard encapsulated.bodyOffset <= self.maxHeaderBytes else {
                    throw .encapsulatedTooLarge(offset: encapsulated.bodyOffset, limit: self.maxHeaderBytes)
                }
                buffer.moveReaderIndex(forwardBy: length)
                let head = ICAPRequestHead(method: method, uri: uri, version: version, headers: block.headers)
                let message = EncapsulatedMessageParser(
                    encapsulated: encapsulated, preview: preview, maxHeaderBytes: self.maxHeaderBytes)
                self.state = .message(pendingHead: head, message)
                self.requestsStarted += 1
                self.decision = nil
            case .message(let head, var message):
                guard let event = try message.next(&buffer) else {
                    self.state = .message(pendingHead: head, message)
                    return nil
                }
                switch event {
                case .heads(let heads):
                    self.state = .message(pendingHead: nil, message)
                    return .head(head!, heads)
                case .body(let data):
                    self.state = .message(pendingHead: nil, message)
                    return .body(data)
                case .previewEnd(let ieof):
                    if !ieof && self.decision == .final {
                        self.state = .head
                    } else {
                        if !ieof && self.decision == .continue { message.continueAfterPreview() }
                        self.state = .message(pendingHead: nil, message)
                    }
                    return .previewEnd(ieof: ieof)
                case .end:
                    self.state = .head
                    return .end
                }
            }
        }
    }

    /// The `Preview` header's size: decimal digits, at most once.
    private static func preview(_ block: ICAPHeaderBlock) throws(ICAPParseError) -> Int? {
        guard let value = try block.single("Preview") else { return nil }
        let digits = value.trimmingASCIISpaces()
        guard !digits.isEmpty, digits.count <= 10, digits.utf8.allSatisfy(ASCII.isDigit), let size = Int(digits),
            size <= Int(Int32.max)
        else { throw .badHeaderValue(name: "Preview", value: value) }
        return size
    }
}
