import NIOCore

/// What follows an ICAP header block, the same for requests and responses: the encapsulated HTTP
/// heads, then the chunked body if there is one, with the preview's end if the message has one.
struct EncapsulatedMessageParser {
    enum Event: Equatable {
        case heads(ICAPEncapsulatedHeads)
        case body(ByteBuffer)
        /// The zero chunk that ends a preview; after `ieof: false` the parser waits for
        /// ``continueAfterPreview()``.
        case previewEnd(ieof: Bool)
        case end
    }

    private enum State {
        case heads(EncapsulatedHeadsReader)
        case body(ChunkedBodyParser, previewRemaining: Int?)
        case awaitingContinue(offset: Int)
        case endPending
        case done
    }

    private var state: State
    private let encapsulated: Encapsulated
    private let preview: Int?
    private let maxHeaderBytes: Int

    /// - Parameter preview: the `Preview` header's size, if the message has one; it applies only
    ///   when there is a body.
    init(encapsulated: Encapsulated, preview: Int?, maxHeaderBytes: Int) {
        self.encapsulated = encapsulated
        self.preview = encapsulated.hasBody ? preview : nil
        self.maxHeaderBytes = maxHeaderBytes
        self.state = .heads(EncapsulatedHeadsReader(encapsulated))
    }

    /// The next event from `buffer`, or nil when more bytes (or the server's decision after a
    /// preview) are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> Event? {
        switch self.state {
        case .heads(var reader):
            guard let heads = try reader.read(&buffer) else {
                self.state = .heads(reader)
                return nil
            }
            if self.encapsulated.hasBody {
                let body = ChunkedBodyParser(
                    section: self.encapsulated.bodySection.rawValue, offset: self.encapsulated.bodyOffset,
                    maxTrailerBytes: self.maxHeaderBytes)
                self.state = .body(body, previewRemaining: self.preview)
            } else {
                self.state = .endPending
            }
            return .heads(heads)
        case .body(var body, let previewRemaining):
            guard let event = try body.next(&buffer) else {
                self.state = .body(body, previewRemaining: previewRemaining)
                return nil
            }
            switch event {
            case .data(let data):
                if let previewRemaining {
                    guard data.readableBytes <= previewRemaining else {
                        throw .previewTooLong(limit: self.preview ?? 0)
                    }
                    self.state = .body(body, previewRemaining: previewRemaining - data.readableBytes)
                } else {
                    self.state = .body(body, previewRemaining: nil)
                }
                return .body(data)
            case .end(let ieof):
                if previewRemaining != nil {
                    self.state = ieof ? .endPending : .awaitingContinue(offset: body.offset)
                    return .previewEnd(ieof: ieof)
                }
                self.state = .done
                return .end
            }
        case .awaitingContinue:
            // Held until the server answers; a client that does not wait cannot make us hoard.
            guard buffer.readableBytes <= self.maxHeaderBytes else {
                throw .dataBeforeAnswer(bytes: buffer.readableBytes)
            }
            return nil
        case .endPending:
            self.state = .done
            return .end
        case .done:
            return nil
        }
    }

    /// The server answered the preview with `100 Continue`: the rest of the body follows.
    mutating func continueAfterPreview() {
        guard case .awaitingContinue(let offset) = self.state else { return }
        let body = ChunkedBodyParser(
            section: self.encapsulated.bodySection.rawValue, offset: offset, maxTrailerBytes: self.maxHeaderBytes)
        self.state = .body(body, previewRemaining: nil)
    }

    /// Whether the preview has ended without `ieof` and no decision has been made yet.
    var isAwaitingContinue: Bool {
        if case .awaitingContinue = self.state { return true }
        return false
    }

    /// What the parser is in the middle of, for a truncation error; nil if nothing is missing.
    func position(received: Int) -> String? {
        switch self.state {
        case .heads(let reader): return reader.position(received: received)
        case .body(let body, _): return body.position
        case .awaitingContinue, .endPending, .done: return nil
        }
    }
}
