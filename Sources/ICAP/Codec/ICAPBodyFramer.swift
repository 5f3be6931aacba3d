import NIOCore

/// The encoders' state machine: which part may come next, and the chunked framing of the body
/// (`size CRLF data CRLF`, the preview's zero chunk with or without `; ieof`, the last chunk).
struct ICAPBodyFramer {
    /// What to write for a part.
    enum Action: Equatable {
        /// Nothing (the part only moves the state on).
        case none
        /// One chunk: its size line, the data, and the CRLF after it.
        case chunk(sizeLine: ByteBuffer, data: ByteBuffer)
        /// Fixed bytes: a zero chunk and its empty line.
        case bytes(ByteBuffer)
    }

    private enum State {
        case idle
        /// A message without a body section: only `.end` may follow.
        case headOnly
        /// Body parts may follow; `previewRemaining` is set while inside a preview.
        case body(previewRemaining: Int?)
        /// The preview ended without `ieof`: after `100 Continue` more body and `.end` follow; after a
        /// final response the next head does.
        case afterPreview
        /// The preview ended with `ieof`: only `.end` may follow.
        case previewComplete
    }

    private var state = State.idle
    private var previewSize = 0

    /// A head: `hasBody` if its `Encapsulated` has a body section, `preview` if the request has one.
    mutating func head(hasBody: Bool, preview: Int?) throws(ICAPEncoderError) {
        switch self.state {
        case .idle, .afterPreview:
            self.previewSize = preview ?? 0
            self.state = hasBody ? .body(previewRemaining: preview) : .headOnly
        case .headOnly, .body, .previewComplete:
            throw .unexpectedPart("a head", state: "before the previous message's end")
        }
    }

    /// Body data: one chunk (none for empty data, which would read as the last chunk).
    mutating func body(_ data: ByteBuffer) throws(ICAPEncoderError) -> Action {
        switch self.state {
        case .idle: throw .unexpectedPart("body data", state: "before a head")
        case .headOnly: throw .bodyWithoutBodySection
        case .previewComplete: throw .unexpectedPart("body data", state: "after the preview ended with ieof")
        case .afterPreview:
            self.state = .body(previewRemaining: nil)
        case .body(let remaining?):
            guard data.readableBytes <= remaining else { throw .previewExceeded(limit: self.previewSize) }
            self.state = .body(previewRemaining: remaining - data.readableBytes)
        case .body(nil):
            break
        }
        guard data.readableBytes > 0 else { return .none }
        var sizeLine = ByteBuffer()
        sizeLine.writeString(String(data.readableBytes, radix: 16))
        sizeLine.writeStaticString("\r\n")
        return .chunk(sizeLine: sizeLine, data: data)
    }

    /// The end of a preview: `0; ieof` if the body ended inside it, else `0`.
    mutating func previewEnd(ieof: Bool) throws(ICAPEncoderError) -> Action {
        guard case .body(previewRemaining: .some) = self.state else {
            throw .unexpectedPart("a preview end", state: "outside a preview")
        }
        self.state = ieof ? .previewComplete : .afterPreview
        return .bytes(ByteBuffer(staticString: ieof ? "0; ieof\r\n\r\n" : "0\r\n\r\n"))
    }

    /// The end of the message: the last chunk if a body is open (`0; ieof` if still inside a
    /// preview, as the body ended there).
    mutating func end() throws(ICAPEncoderError) -> Action {
        switch self.state {
        case .idle:
            throw .unexpectedPart("an end", state: "before a head")
        case .headOnly, .previewComplete:
            self.state = .idle
            return .none
        case .body(let remaining):
            self.state = .idle
            return .bytes(ByteBuffer(staticString: remaining == nil ? "0\r\n\r\n" : "0; ieof\r\n\r\n"))
        case .afterPreview:
            self.state = .idle
            return .bytes(ByteBuffer(staticString: "0\r\n\r\n"))
        }
    }
}
