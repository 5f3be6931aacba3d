import NIOCore

/// Reads one HTTP/1.1 message body out of a connection's bytes, in its framing (RFC 9112 §6,
/// §7.1): Content-Length, chunked (sizes, extensions, trailers), or until the close. Pure; both
/// message parsers (`ClientRequestParser`, `OriginResponseParser`) read their bodies with it.
struct MessageBodyReader {
    enum Event {
        /// Body bytes, de-chunked: a slice of the input, not a copy.
        case body(ByteBuffer)
        case end
    }

    private enum State {
        case contentLength(remaining: Int64)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        /// `bytes` of trailer lines read so far.
        case trailers(bytes: Int)
        case untilClose
        /// The body's last byte was read: `.end` is next.
        case endPending
        case ended
    }

    private var state: State
    /// The longest trailer section read (it is dropped, but a sender must not keep a
    /// connection busy with it for ever).
    static let maxTrailerBytes = 64 * 1024

    init(_ framing: BodyFraming) {
        switch framing {
        case .none: self.state = .endPending
        case .contentLength(let length): self.state = length == 0 ? .endPending : .contentLength(remaining: length)
        case .chunked: self.state = .chunkSize
        case .untilClose: self.state = .untilClose
        }
    }

    /// The next event from `buffer` (consuming what it uses), or nil when more bytes are needed.
    /// `.end` is returned once: on the call after the last body bytes (at once for a message
    /// without a body), or when the last chunk's trailers are read; nil ever after.
    mutating func next(_ buffer: inout ByteBuffer) throws(ChunkedBodyError) -> Event? {
        while true {
            switch self.state {
            case .ended:
                return nil
            case .endPending:
                self.state = .ended
                return .end
            case .contentLength(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = Int(min(Int64(buffer.readableBytes), remaining))
                self.state =
                    remaining == Int64(count) ? .endPending : .contentLength(remaining: remaining - Int64(count))
                return .body(buffer.readSlice(length: count)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let line = try Self.readLine(&buffer, limit: 4096) else { return nil }
                let size = try Self.chunkSize(line)
                self.state = size == 0 ? .trailers(bytes: 0) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(buffer.readableBytes, remaining)
                self.state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkDataEnd:
                // The chunk's data must be followed by CRLF (or a bare LF) at once.
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                } else if first == UInt8(ascii: "\r") {
                    guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                    guard second == UInt8(ascii: "\n") else { throw ChunkedBodyError("data longer than its size") }
                    buffer.moveReaderIndex(forwardBy: 2)
                } else {
                    throw ChunkedBodyError("data longer than its size")
                }
                self.state = .chunkSize
            case .trailers(let bytes):
                // Trailer fields are not forwarded (the receiving side re-frames the body).
                guard let line = try Self.readLine(&buffer, limit: 8192) else { return nil }
                if line.readableBytes == 0 {
                    self.state = .ended
                    return .end
                }
                let total = bytes + line.readableBytes + 2
                guard total <= Self.maxTrailerBytes else {
                    throw ChunkedBodyError("trailers longer than \(Self.maxTrailerBytes) bytes")
                }
                self.state = .trailers(bytes: total)
            }
        }
    }

    /// One line without its CR LF (bare LF accepted), or nil if it is not complete yet. The line
    /// feed is looked for only as far as a line of `limit` bytes (and its CR) could reach.
    private static func readLine(_ buffer: inout ByteBuffer, limit: Int) throws(ChunkedBodyError) -> ByteBuffer? {
        let newline = buffer.withUnsafeReadableBytes {
            FieldLineSyntax.firstIndex(of: UInt8(ascii: "\n"), in: $0, from: 0, to: min($0.count, limit + 2))
        }
        guard let length = newline else {
            if buffer.readableBytes > limit + 1 { throw ChunkedBodyError("line longer than \(limit) bytes") }
            return nil
        }
        var line = buffer.readSlice(length: length + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        return line
    }

    /// chunk-size [chunk-ext]: hexadecimal, at most 15 digits; extensions are ignored.
    private static func chunkSize(_ line: ByteBuffer) throws(ChunkedBodyError) -> Int {
        let view = line.readableBytesView
        let sizeEnd = view.firstIndex(of: UInt8(ascii: ";")) ?? view.endIndex
        let digits = ASCII.trimmed(view[view.startIndex..<sizeEnd])
        guard !digits.isEmpty, digits.count <= 15 else { throw ChunkedBodyError("chunk size missing or too large") }
        var size = 0
        for digit in digits {
            let value: Int
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(digit - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(digit - UInt8(ascii: "A")) + 10
            default: throw ChunkedBodyError("chunk size is not hexadecimal")
            }
            size = size << 4 | value
        }
        return size
    }
}

/// A chunked body that does not follow RFC 9112 §7.1; `detail` says how.
struct ChunkedBodyError: Error, Equatable {
    let detail: String
    init(_ detail: String) { self.detail = detail }
}
