import NIOCore

/// One origin response head, kept as the bytes it arrived in: forwarding it means copying
/// its field lines, not decoding them into strings and encoding them again.
struct OriginResponseHead {
    var minorVersion: Int
    var status: Int
    /// The head as received, from the status line through the empty line.
    var bytes: ByteBuffer
    /// Where the reason phrase is in `bytes` (offsets from its reader index).
    var reason: Range<Int>
    /// Where the field lines are in `bytes`.
    var fieldLines: Range<Int>
    /// Every field line is exactly `name: value` CRLF (one space, no trailing white space),
    /// as `forEachField` would write it: the lines can be copied as they are.
    var fieldLinesAreCanonical = false
    var fields: HeadFields

    /// Calls `body` with the name and value of each field line, in order.
    func forEachField(_ body: (UnsafeRawBufferPointer.SubSequence, UnsafeRawBufferPointer.SubSequence) -> Void) {
        self.bytes.withUnsafeReadableBytes { all in
            var lineStart = self.fieldLines.lowerBound
            while lineStart < self.fieldLines.upperBound {
                var lineEnd = lineStart
                while all[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let contentEnd = lineEnd > lineStart && all[lineEnd - 1] == UInt8(ascii: "\r") ? lineEnd - 1 : lineEnd
                let line = all[lineStart..<contentEnd]
                if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                    body(ASCII.trimmed(line[lineStart..<colon]), ASCII.trimmed(line[(colon + 1)...]))
                }
                lineStart = lineEnd + 1
            }
        }
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
        case endPending
        case body(remaining: Int64)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// After a 101 the bytes belong to the new protocol; the parser takes no more.
        case upgraded
        case failed
    }

    private(set) var state: State = .idle
    let maxHeadBytes: Int
    /// How far the search for the end of the head got, and the bytes it last saw, so a head
    /// arriving in many small reads is scanned once.
    private var headScanned = 0
    private var headScanTail: UInt32 = 0

    init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// A request was sent: its response is the next thing to read.
    mutating func expectResponse(requestWasHEAD: Bool) {
        self.state = .head(requestWasHEAD: requestWasHEAD)
        self.headScanned = 0
        self.headScanTail = 0
    }

    /// The next event from `buffer` (consuming what it uses), or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(OriginResponseError) -> OriginResponseEvent? {
        while true {
            switch self.state {
            case .idle:
                guard buffer.readableBytes == 0 else { throw self.fail(.unsolicited) }
                return nil
            case .failed:
                throw .unsolicited
            case .upgraded:
                return nil
            case .endPending:
                self.state = .idle
                return .end
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
                switch head.fields.responseFraming(status: head.status, requestWasHEAD: requestWasHEAD) {
                case .none: self.state = .endPending
                case .contentLength(let length): self.state = length == 0 ? .endPending : .body(remaining: length)
                case .chunked: self.state = .chunkSize
                case .untilClose: self.state = .untilClose
                }
                return .head(head)
            case .body(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = Int(min(Int64(buffer.readableBytes), remaining))
                let slice = buffer.readSlice(length: count)!
                self.state = remaining == Int64(count) ? .endPending : .body(remaining: remaining - Int64(count))
                return .body(slice)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let line = try self.readLine(&buffer, limit: 4096) else { return nil }
                let size = try self.parseChunkSize(line)
                self.state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(buffer.readableBytes, remaining)
                let slice = buffer.readSlice(length: count)!
                self.state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(slice)
            case .chunkDataEnd:
                // The chunk's data must be followed by CRLF (or a bare LF) at once.
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                } else if first == UInt8(ascii: "\r") {
                    guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                    guard second == UInt8(ascii: "\n") else { throw self.fail(.badChunk("data longer than its size")) }
                    buffer.moveReaderIndex(forwardBy: 2)
                } else {
                    throw self.fail(.badChunk("data longer than its size"))
                }
                self.state = .chunkSize
            case .trailers:
                // Trailer fields are not forwarded (the client side re-frames the body).
                guard let line = try self.readLine(&buffer, limit: 8192) else { return nil }
                if line.readableBytes == 0 { self.state = .endPending }
            }
        }
    }

    private mutating func fail(_ error: OriginResponseError) -> OriginResponseError {
        self.state = .failed
        return error
    }

    /// One line without its CR LF (bare LF accepted), or nil if it is not complete yet.
    private mutating func readLine(_ buffer: inout ByteBuffer, limit: Int) throws(OriginResponseError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > limit { throw self.fail(.badChunk("line longer than \(limit) bytes")) }
            return nil
        }
        let length = newline - view.startIndex
        var line = buffer.readSlice(length: length + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        if line.readableBytes > limit { throw self.fail(.badChunk("line longer than \(limit) bytes")) }
        return line
    }

    private mutating func parseChunkSize(_ line: ByteBuffer) throws(OriginResponseError) -> Int {
        let view = line.readableBytesView
        let sizeEnd = view.firstIndex(of: UInt8(ascii: ";")) ?? view.endIndex
        let digits = ASCII.trimmed(view[view.startIndex..<sizeEnd])
        guard !digits.isEmpty, digits.count <= 15 else { throw self.fail(.badChunk("chunk size missing or too large")) }
        var size = 0
        for digit in digits {
            let value: Int
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(digit - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(digit - UInt8(ascii: "A")) + 10
            default: throw self.fail(.badChunk("chunk size is not hexadecimal"))
            }
            size = size << 4 | value
        }
        return size
    }

    private mutating func parseHead(_ buffer: inout ByteBuffer) throws(OriginResponseError) -> OriginResponseHead? {
        // Empty lines before the status line are ignored (RFC 9112 §2.2).
        if self.headScanned == 0 {
            while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
                byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
            {
                buffer.moveReaderIndex(forwardBy: 1)
            }
        }
        // Find the empty line that ends the head: CRLF CRLF, or bare LF LF, or LF CRLF.
        var tail = self.headScanTail
        let start = self.headScanned
        let end: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = start
            while index < bytes.count {
                tail = tail << 8 | UInt32(bytes[index])
                if tail == 0x0D0A_0D0A || tail & 0xFFFF == 0x0A0A || tail & 0xFF_FFFF == 0x0A_0D0A { return index + 1 }
                index += 1
            }
            return nil
        }
        guard let end else {
            self.headScanned = buffer.readableBytes
            self.headScanTail = tail
            if buffer.readableBytes > self.maxHeadBytes { throw self.fail(.headTooLarge(self.maxHeadBytes)) }
            return nil
        }
        self.headScanned = 0
        self.headScanTail = 0
        if end > self.maxHeadBytes { throw self.fail(.headTooLarge(self.maxHeadBytes)) }
        let bytes = buffer.readSlice(length: end)!
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
        guard let firstNewline = all.firstIndex(of: UInt8(ascii: "\n")) else { return .failure(.badStatusLine) }
        let statusLineEnd =
            firstNewline > 0 && all[firstNewline - 1] == UInt8(ascii: "\r") ? firstNewline - 1 : firstNewline
        let line = all[0..<statusLineEnd]
        guard line.count >= 12, line.starts(with: "HTTP/1.".utf8), line[8] == UInt8(ascii: " "),
            line[7] == UInt8(ascii: "0") || line[7] == UInt8(ascii: "1"),
            line[9...11].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            line.count == 12 || line[12] == UInt8(ascii: " ")
        else { return .failure(.badStatusLine) }
        let status = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard status >= 100 else { return .failure(.badStatusLine) }
        // reason-phrase: HTAB, SP, VCHAR, obs-text; a stray CR could smuggle a field.
        guard line.dropFirst(12).allSatisfy(Self.isFieldValueByte) else { return .failure(.badStatusLine) }
        let reason = line.count > 13 ? 13..<statusLineEnd : statusLineEnd..<statusLineEnd

        var fields = HeadFields(recordsContentType: true)
        var canonical = true
        let fieldsStart = firstNewline + 1
        var lineStart = fieldsStart
        var fieldsEnd = fieldsStart
        while lineStart < all.count {
            var lineEnd = lineStart
            while lineEnd < all.count && all[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let contentEnd = lineEnd > lineStart && all[lineEnd - 1] == UInt8(ascii: "\r") ? lineEnd - 1 : lineEnd
            let fieldLine = all[lineStart..<contentEnd]
            if fieldLine.isEmpty {
                fieldsEnd = lineStart
                break
            }
            // obs-fold (a line starting with white space) is refused, as RFC 9112 §5.2 allows.
            // White space before the colon is removed, as RFC 9112 §5.1 asks of a proxy.
            guard let colon = fieldLine.firstIndex(of: UInt8(ascii: ":")) else { return .failure(.badField) }
            let name = ASCII.trimmed(fieldLine[lineStart..<colon])
            guard !name.isEmpty, name.startIndex == lineStart, name.allSatisfy(Self.isTokenByte) else {
                return .failure(.badField)
            }
            let value = ASCII.trimmed(fieldLine[(colon + 1)...])
            guard value.allSatisfy(Self.isFieldValueByte) else { return .failure(.badField) }
            if canonical {
                canonical =
                    contentEnd == lineEnd - 1 && name.endIndex == colon && colon + 1 < contentEnd
                    && all[colon + 1] == UInt8(ascii: " ") && value.startIndex == colon + 2
                    && value.endIndex == contentEnd
            }
            fields.note(name: name, value: value)
            lineStart = lineEnd + 1
        }
        fields.finish()
        return .success(
            OriginResponseHead(
                minorVersion: Int(line[7] - 48), status: status, bytes: bytes, reason: reason,
                fieldLines: fieldsStart..<fieldsEnd, fieldLinesAreCanonical: canonical, fields: fields))
    }

    /// field-vchar, SP and HTAB (RFC 9110 §5.5): no controls, no DEL; obs-text is allowed.
    private static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
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
