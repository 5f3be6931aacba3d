import NIOCore

/// The chunked framing of an encapsulated body (RFC 3507 §4.4.1, RFC 9112 §7.1): hexadecimal
/// sizes in either case, chunk extensions (`ieof` recognised, others ignored), data followed by
/// exactly CRLF, the zero chunk, optional trailer lines, and the final empty line.
struct ChunkedBodyParser {
    /// The longest chunk-size or trailer line accepted.
    static let maxLineLength = 4096
    /// The largest chunk accepted: 2^31 bytes.
    static let maxChunkSize = 1 << 31

    enum Event: Equatable {
        /// De-chunked data.
        case data(ByteBuffer)
        /// The zero chunk and the empty line after it; `ieof` if the zero chunk said so.
        case end(ieof: Bool)
    }

    private enum State {
        case size
        case data(remaining: Int, size: Int)
        case dataEnd(size: Int)
        case trailers(ieof: Bool)
        case done
    }

    private var state = State.size
    /// The offset of the next byte in the encapsulated data, for error messages.
    private(set) var offset: Int
    private var trailerBytes = 0
    private let maxTrailerBytes: Int
    private let section: String

    /// A parser for a body that starts at `offset` in the encapsulated data.
    init(section: String, offset: Int, maxTrailerBytes: Int) {
        self.section = section
        self.offset = offset
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// The next event from `buffer` (consuming what it uses), or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> Event? {
        while true {
            switch self.state {
            case .done:
                return nil
            case .size:
                guard let line = try self.readLine(&buffer) else { return nil }
                let (size, ieof) = try Self.parseSizeLine(line.bytes, offset: line.offset)
                self.state = size == 0 ? .trailers(ieof: ieof) : .data(remaining: size, size: size)
            case .data(let remaining, let size):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(buffer.readableBytes, remaining)
                let slice = buffer.readSlice(length: count)!
                self.offset += count
                self.state = remaining == count ? .dataEnd(size: size) : .data(remaining: remaining - count, size: size)
                return .data(slice)
            case .dataEnd(let size):
                // Exactly CRLF: anything else means the size lied.
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                guard first == ASCII.cr else { throw .missingChunkCRLF(size: size, offset: self.offset) }
                guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                guard second == ASCII.lf else { throw .missingChunkCRLF(size: size, offset: self.offset) }
                buffer.moveReaderIndex(forwardBy: 2)
                self.offset += 2
                self.state = .size
            case .trailers(let ieof):
                guard let line = try self.readLine(&buffer) else { return nil }
                if line.bytes.isEmpty {
                    self.state = .done
                    return .end(ieof: ieof)
                }
                self.trailerBytes += line.bytes.count + 2
                guard self.trailerBytes <= self.maxTrailerBytes else {
                    throw .badChunkLine(offset: line.offset, "takes the trailers past \(self.maxTrailerBytes) bytes")
                }
                guard let colon = line.bytes.firstIndex(of: ASCII.colon), colon > 0,
                    line.bytes[..<colon].allSatisfy(ASCII.isTokenByte),
                    line.bytes[(colon + 1)...].allSatisfy(ASCII.isFieldValueByte)
                else {
                    throw .badChunkLine(
                        offset: line.offset, "is not a trailer field \(ICAPParseError.quoted(ASCII.string(line.bytes)))"
                    )
                }
            }
        }
    }

    /// What the parser is in the middle of, for a truncation error.
    var position: String {
        switch self.state {
        case .size: return "the \(self.section) at offset \(self.offset), before a chunk-size line ended"
        case .data(let remaining, let size):
            return "the \(self.section) chunk data (\(size - remaining) of \(size) bytes received)"
        case .dataEnd: return "the \(self.section) at offset \(self.offset), before the CRLF after a chunk"
        case .trailers: return "the \(self.section) after its last chunk, before the final empty line"
        case .done: return "the \(self.section) after its end"
        }
    }

    /// One line without its CRLF, or nil when it has not ended yet.
    private mutating func readLine(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> (bytes: [UInt8], offset: Int)?
    {
        let view = buffer.readableBytesView
        guard let newline = view.prefix(Self.maxLineLength + 2).firstIndex(of: ASCII.lf) else {
            if view.count > Self.maxLineLength + 1 {
                throw .chunkLineTooLong(offset: self.offset, limit: Self.maxLineLength)
            }
            return nil
        }
        let length = newline - view.startIndex
        guard length > 0, view[newline - 1] == ASCII.cr else {
            throw .badChunkLine(offset: self.offset + length, "ends in a bare LF (lines must end in CRLF)")
        }
        let line = Array(view[view.startIndex..<(newline - 1)])
        let lineOffset = self.offset
        buffer.moveReaderIndex(forwardBy: length + 1)
        self.offset += length + 1
        return (line, lineOffset)
    }

    /// `hex-size *( BWS ";" BWS ext-name [ "=" ext-value ] )`: the size, and whether `ieof` was among
    /// the extensions.
    static func parseSizeLine(_ line: [UInt8], offset: Int) throws(ICAPParseError) -> (size: Int, ieof: Bool) {
        var size = 0
        var index = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            size = size << 4 | digit
            if size > Self.maxChunkSize { throw .chunkTooLarge(ASCII.string(line), offset: offset) }
            index += 1
        }
        guard index > 0 else { throw .badChunkSize(ASCII.string(line), offset: offset) }
        var rest = ASCII.trimmed(line[index...])
        guard rest.isEmpty || rest.first == UInt8(ascii: ";") else {
            throw .badChunkSize(ASCII.string(line), offset: offset)
        }
        var ieof = false
        while rest.first == UInt8(ascii: ";") {
            rest = rest.dropFirst()
            let end = rest.firstIndex(of: UInt8(ascii: ";")) ?? rest.endIndex
            let extensionBytes = rest[..<end]
            let nameEnd = extensionBytes.firstIndex(of: UInt8(ascii: "=")) ?? extensionBytes.endIndex
            let name = ASCII.trimmed(extensionBytes[..<nameEnd])
            if name.count == 4, ASCII.string(name).lowercased() == "ieof" { ieof = true }
            rest = rest[end...]
        }
        return (size, ieof)
    }
}
