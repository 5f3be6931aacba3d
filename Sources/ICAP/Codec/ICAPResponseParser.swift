import NIOCore

/// ICAP responses from raw bytes, one part at a time: the client side's state machine. Pure: the
/// ``ICAPResponseDecoder`` feeds it what the socket delivers and the methods of the requests sent.
///
/// An OPTIONS answer may carry an `opt-body`; a REQMOD answer a request or a whole HTTP response;
/// a RESPMOD answer a response. So the parser must know, in order, which method each response
/// answers: ``expectResponse(to:)``. A response with none outstanding is an error.
struct ICAPResponseParser {
    private enum State {
        case head
        case message(pendingHead: ICAPResponseHead?, EncapsulatedMessageParser)
        case failed(ICAPParseError)
    }

    private var state = State.head
    private var scanner = HeadBlockScanner()
    private var expected = CircularBuffer<ICAPMethod>()
    let maxHeaderBytes: Int

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// A request with `method` was sent: its response comes after those already expected.
    mutating func expectResponse(to method: ICAPMethod) {
        self.expected.append(method)
    }

    /// The methods of the requests whose final responses have not been read yet, oldest first.
    var outstanding: [ICAPMethod] { Array(self.expected) }

    /// The next part from `buffer` (consuming what it uses), or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> ICAPResponsePart? {
        do throws(ICAPParseError) {
            return try self.nextPart(&buffer)
        } catch {
            self.state = .failed(error)
            throw error
        }
    }

    /// The error for a connection that closed now with `buffered` bytes unparsed, or nil if no
    /// response was cut short.
    func truncation(buffered: Int) -> ICAPParseError? {
        switch self.state {
        case .head:
            return buffered > 0 ? .truncated(inside: "an ICAP response header (\(buffered) bytes received)") : nil
        case .message(_, let message):
            return message.position(received: buffered).map { .truncated(inside: $0) }
        case .failed:
            return nil
        }
    }

    private mutating func nextPart(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> ICAPResponsePart? {
        while true {
            switch self.state {
            case .failed(let error):
                throw error
            case .head:
                guard buffer.readableBytes > 0 else { return nil }
                guard let method = self.expected.first else {
                    throw .unsolicitedResponse(bytes: buffer.readableBytes)
                }
                guard let length = try self.scanner.scan(buffer, limit: self.maxHeaderBytes) else { return nil }
                let block = try ICAPHeaderBlock(Array(buffer.readableBytesView.prefix(length)))
                let (version, code, reason) = try block.statusLine()
                let encapsulated = try EncapsulatedRules.response(
                    try block.single("Encapsulated"), method: method, code: code)
                if code >= 200 && code < 300 && (block.headers.first(name: "ISTag") ?? "").isEmpty {
                    throw .missingISTag(status: code)
                }
                guard encapsulated.bodyOffset <= self.maxHeaderBytes else {
                    throw .encapsulatedTooLarge(offset: encapsulated.bodyOffset, limit: self.maxHeaderBytes)
                }
                buffer.moveReaderIndex(forwardBy: length)
                if code >= 200 { self.expected.removeFirst() }
                let head = ICAPResponseHead(
                    version: version, statusCode: code, reasonPhrase: reason, headers: block.headers)
                let message = EncapsulatedMessageParser(
                    encapsulated: encapsulated, preview: nil, maxHeaderBytes: self.maxHeaderBytes)
                self.state = .message(pendingHead: head, message)
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
                case .previewEnd, .end:
                    self.state = .head
                    return .end
                }
            }
        }
    }
}
