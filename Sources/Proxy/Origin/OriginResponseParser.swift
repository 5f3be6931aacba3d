import NIOCore

/// One origin response head, kept as the bytes it arrived in: forwarding it means copying
/// its field lines, not decoding them into strings and encoding them again.
///
/// (The stored properties are in this order so that no padding is wasted: a head is copied by
/// value from parser to handler, and small enough it is copied without a call to `memcpy`.)
struct OriginResponseHead {
    /// The head as received, from the status line through the empty line.
    var bytes: ByteBuffer
    /// Where the reason phrase is in `bytes` (offsets from its reader index).
    var reason: Range<Int>
    /// Where the field lines are in `bytes`.
    var fieldLines: Range<Int>
    var fields: HeadFields
    var status: Int
    var minorVersion: Int
    /// Bit `i` is set when field line `i` has a name the proxy recognises (`FieldName`), so
    /// the lines with other names can be copied without looking at their names again; nil
    /// when the head has more than 64 field lines.
    var recognisedLines: UInt64?
    /// Where the `Content-Type` value is in `bytes` (for the access log).
    var contentTypeValue: Range<Int32>?
    /// Where the hop-by-hop field lines are in `bytes`, so a canonical head is copied around
    /// them without reading its lines again.
    var hopByHopLines = HopByHopLines()
    /// Every field line is exactly `name: value` CRLF (one space, no trailing white space),
    /// as `forEachField` would write it: the lines can be copied as they are.
    var fieldLinesAreCanonical = false

    /// The `Content-Type` value: a view of the head's own bytes, not a copy.
    var contentType: ByteBuffer? {
        guard let range = self.contentTypeValue else { return nil }
        return self.bytes.getSlice(at: self.bytes.readerIndex + Int(range.lowerBound), length: range.count)
    }

    /// The whole head is as the proxy would write it to an HTTP/1.1 client: the status line is
    /// `HTTP/1.1 code reason` CRLF (with a reason) and the field lines are canonical.
    var isCanonical: Bool {
        guard self.fieldLinesAreCanonical, self.minorVersion == 1, !self.reason.isEmpty else { return false }
        return self.bytes.getInteger(at: self.bytes.readerIndex + self.reason.upperBound, as: UInt8.self)
            == UInt8(ascii: "\r")
    }

    /// Calls `body` with where each field line is in `all` (the readable bytes of `bytes`; its
    /// line break included) and its name. Only for canonical field lines (`name: value` CRLF).
    func forEachFieldLine(
        in all: UnsafeRawBufferPointer, _ body: (Range<Int>, UnsafeRawBufferPointer.SubSequence) -> Void
    ) {
        var lineStart = self.fieldLines.lowerBound
        while lineStart < self.fieldLines.upperBound {
            var colon = lineStart
            while all[colon] != UInt8(ascii: ":") { colon += 1 }
            var lineEnd = colon
            while all[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            body(lineStart..<(lineEnd + 1), all[lineStart..<colon])
            lineStart = lineEnd + 1
        }
    }

    /// Calls `body` with the name and value of each field line, in order: the parser's own
    /// reading of the lines (they were checked when the head was parsed).
    func forEachField(_ body: (FieldLineSyntax.Bytes, FieldLineSyntax.Bytes) -> Void) {
        self.bytes.withUnsafeReadableBytes { all in
            _ = FieldLineSyntax.parse(all, from: self.fieldLines.lowerBound, removesSpaceBeforeColon: true, body)
        }
    }
}

/// Where a head's hop-by-hop field lines are (as line ranges, line breaks included): the first
/// two, which is all most heads have (`Connection`, perhaps `Keep-Alive`), kept inline.
struct HopByHopLines {
    private var first: Range<Int32> = 0..<0
    private var second: Range<Int32> = 0..<0
    /// How many there are (counting stops at 255).
    private(set) var count: UInt8 = 0

    mutating func note(_ line: Range<Int32>) {
        switch self.count {
        case 0: self.first = line
        case 1: self.second = line
        default: break
        }
        if self.count < .max { self.count += 1 }
    }

    /// Calls `body` with each line, in order; false (calling nothing) when there are more
    /// than the two kept.
    func forEach(_ body: (Range<Int>) -> Void) -> Bool {
        guard self.count <= 2 else { return false }
        if self.count >= 1 { body(Int(self.first.lowerBound)..<Int(self.first.upperBound)) }
        if self.count == 2 { body(Int(self.second.lowerBound)..<Int(self.second.upperBound)) }
        return true
    }
}

/// What the parser found next in an origin's bytes.
enum OriginResponseEvent {
    /// The final head (status 200 and up, or 101).
    case head(OriginResponseHead)
    /// A 1xx head other than 101 (`100 Continue`); the final head is still to come.
    case informational(OriginResponseHead)
    /// Body bytes, de-chunked.
    case body(ByteBuffer)
    case end
}

/// HTTP/1.1 response parsing over raw bytes (RFC 9112): status line, field lines, and body
/// framing — Content-Length, chunked (sizes, extensions, trailers), read-until-close — one
/// event at a time. Pure: the `OriginConnectionHandler` feeds it what the socket delivers.
struct OriginResponseParser {
    enum State {
        /// No request outstanding: any byte is an error.
        case idle
        case head(requestWasHEAD: Bool)
        /// The body (possibly none) until its end; then `idle`.
        case body(MessageBodyReader)
        /// After a 101 the bytes belong to the new protocol; the parser takes no more.
        case upgraded
        case failed
    }

    private(set) var state: State = .idle
    let maxHeadBytes: Int
    private var headEnd = HeadEndScanner()

    init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// A request was sent: its response is the next thing to read.
    mutating func expectResponse(requestWasHEAD: Bool) {
        self.state = .head(requestWasHEAD: requestWasHEAD)
        self.headEnd.reset()
    }

    /// The next event from `buffer` (consuming what it uses), or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(OriginResponseError) -> OriginResponseEvent? {
        switch self.state {
        case .idle:
            guard buffer.readableBytes == 0 else { throw self.fail(.unsolicited) }
            return nil
        case .failed:
            throw .unsolicited
        case .upgraded:
            return nil
        case .head(let requestWasHEAD):
            guard let head = try self.parseHead(&buffer) else { return nil }
            if head.status >= 100 && head.status < 200 && head.status != 101 {
                return .informational(head)
            }
            if head.status == 101 {
                self.state = .upgraded
                return .head(head)
            }
            if let error = head.fields.framingError { throw self.fail(.badFraming(error)) }
            let framing = head.fields.responseFraming(status: head.status, requestWasHEAD: requestWasHEAD)
            self.state = .body(MessageBodyReader(framing))
            return .head(head)
        case .body(var reader):
            let event: MessageBodyReader.Event?
            do {
                event = try reader.next(&buffer)
            } catch {
                throw self.fail(.badChunk(error.detail))
            }
            switch event {
            case .body(let bytes):
                self.state = .body(reader)
                return .body(bytes)
            case .end:
                self.state = .idle
                return .end
            case nil:
                self.state = .body(reader)
                return nil
            }
        }
    }

    private mutating func fail(_ error: OriginResponseError) -> OriginResponseError {
        self.state = .failed
        return error
    }

    private mutating func parseHead(_ buffer: inout ByteBuffer) throws(OriginResponseError) -> OriginResponseHead? {
        let length: Int
        switch self.headEnd.headLength(in: &buffer, maxHeadBytes: self.maxHeadBytes) {
        case .success(.some(let value)): length = value
        case .success(.none): return nil
        case .failure: throw self.fail(.headTooLarge(self.maxHeadBytes))
        }
        let bytes = buffer.readSlice(length: length)!
        let parsed: Result<OriginResponseHead, OriginResponseError> = bytes.withUnsafeReadableBytes { all in
            Self.parseHeadBytes(all, bytes: bytes)
        }
        switch parsed {
        case .success(let head): return head
        case .failure(let error): throw self.fail(error)
        }
    }

    private static func parseHeadBytes(
        _ all: UnsafeRawBufferPointer, bytes: ByteBuffer
    ) -> Result<OriginResponseHead, OriginResponseError> {
        // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
        guard let firstNewline = FieldLineSyntax.firstIndex(of: UInt8(ascii: "\n"), in: all, from: 0, to: all.count)
        else { return .failure(.badStatusLine) }
        let statusLineEnd =
            firstNewline > 0 && all[firstNewline - 1] == UInt8(ascii: "\r") ? firstNewline - 1 : firstNewline
        let line = all[0..<statusLineEnd]
        guard line.count >= 12, FieldLineSyntax.hasPrefix(line, "HTTP/1."), line[8] == UInt8(ascii: " "),
            line[7] == UInt8(ascii: "0") || line[7] == UInt8(ascii: "1"),
            line[9...11].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            line.count == 12 || line[12] == UInt8(ascii: " ")
        else { return .failure(.badStatusLine) }
        let status = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard status >= 100 else { return .failure(.badStatusLine) }
        // reason-phrase: HTAB, SP, VCHAR, obs-text; a stray CR could smuggle a field.
        guard line.dropFirst(12).allSatisfy(FieldLineSyntax.isFieldValueByte) else { return .failure(.badStatusLine) }
        let reason = line.count > 13 ? 13..<statusLineEnd : statusLineEnd..<statusLineEnd

        var fields = HeadFields()
        var contentTypeValue: Range<Int32>?
        var hopByHopLines = HopByHopLines()
        var recognisedLines: UInt64 = 0
        var lineCount = 0
        let fieldsStart = firstNewline + 1
        guard
            let (fieldsEnd, canonical) = FieldLineSyntax.parse(
                all, from: fieldsStart, removesSpaceBeforeColon: true,
                { name, value in
                    let recognised = fields.note(name: name, value: value)
                    if recognised != .none, lineCount < 64 { recognisedLines |= 1 << UInt64(lineCount) }
                    if recognised == .contentType {
                        contentTypeValue = Int32(value.startIndex)..<Int32(value.endIndex)
                    } else if recognised.isHopByHop {
                        // (A canonical line ends with CRLF right after its value.)
                        hopByHopLines.note(Int32(name.startIndex)..<Int32(value.endIndex + 2))
                    }
                    lineCount += 1
                })
        else { return .failure(.badField) }
        fields.finish()
        return .success(
            OriginResponseHead(
                bytes: bytes, reason: reason, fieldLines: fieldsStart..<fieldsEnd, fields: fields, status: status,
                minorVersion: Int(line[7] - 48), recognisedLines: lineCount <= 64 ? recognisedLines : nil,
                contentTypeValue: contentTypeValue, hopByHopLines: hopByHopLines,
                fieldLinesAreCanonical: canonical))
    }
}

/// A response an origin should not have sent.
struct OriginResponseError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable {
        case unsolicited, badStatusLine, badField, badFraming(String), badChunk(String), headTooLarge(Int)
    }
    private let kind: Kind
    private init(_ kind: Kind) { self.kind = kind }

    static let unsolicited = Self(.unsolicited)
    static let badStatusLine = Self(.badStatusLine)
    static let badField = Self(.badField)
    static func badFraming(_ detail: String) -> Self { Self(.badFraming(detail)) }
    static func badChunk(_ detail: String) -> Self { Self(.badChunk(detail)) }
    static func headTooLarge(_ limit: Int) -> Self { Self(.headTooLarge(limit)) }

    var description: String {
        switch self.kind {
        case .unsolicited: return "the origin sent bytes no request asked for"
        case .badStatusLine: return "the origin's status line is malformed"
        case .badField: return "the origin sent a malformed header field"
        case .badFraming(let detail): return "the origin's response framing is invalid: \(detail)"
        case .badChunk(let detail): return "the origin's chunked body is malformed: \(detail)"
        case .headTooLarge(let limit): return "the origin's response head is larger than \(limit) bytes"
        }
    }
}
