import NIOCore

/// Finds the end of a message head in bytes that may arrive a few at a time, scanning each
/// byte once: it keeps how far it got and the last bytes it saw between calls.
struct HeadEndScanner {
    private var scanned = 0
    private var tail: UInt32 = 0

    /// A new head starts: forget the last one.
    mutating func reset() {
        self.scanned = 0
        self.tail = 0
    }

    /// The length of the head at the start of `buffer`, through its empty line (CRLF CRLF, or
    /// the bare-LF forms), or nil while it is incomplete. Empty lines before a head are dropped
    /// (RFC 9112 §2.2). Throws once the head is longer than `maxHeadBytes`.
    mutating func headLength(in buffer: inout ByteBuffer, maxHeadBytes: Int) -> Result<Int?, HeadTooLarge> {
        if self.scanned == 0 {
            while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
                byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
            {
                buffer.moveReaderIndex(forwardBy: 1)
            }
        }
        var tail = self.tail
        let start = self.scanned
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
            self.scanned = buffer.readableBytes
            self.tail = tail
            return buffer.readableBytes > maxHeadBytes ? .failure(HeadTooLarge(limit: maxHeadBytes)) : .success(nil)
        }
        self.reset()
        return end > maxHeadBytes ? .failure(HeadTooLarge(limit: maxHeadBytes)) : .success(end)
    }

    /// A head longer than the limit.
    struct HeadTooLarge: Error, Equatable {
        let limit: Int
    }
}

/// The field-line syntax of RFC 9112 §5 and RFC 9110 §5, over raw head bytes.
enum FieldLineSyntax {
    typealias Bytes = Slice<UnsafeRawBufferPointer>

    /// Reads the field lines from `start` up to the empty line that ends the head, calling
    /// `body` with each name and value (trimmed). Returns where the field lines end and
    /// whether every line is exactly `name: value` CRLF; nil if a line is malformed: no colon,
    /// a name that is not a token, obs-fold (RFC 9112 §5.2 lets a recipient refuse it), or a
    /// control in a value. White space between name and colon is refused in a request and
    /// removed from a response (RFC 9112 §5.1): `removesSpaceBeforeColon`.
    static func parse(
        _ all: UnsafeRawBufferPointer, from start: Int, removesSpaceBeforeColon: Bool,
        _ body: (_ name: Bytes, _ value: Bytes) -> Void
    ) -> (end: Int, canonical: Bool)? {
        var canonical = true
        var lineStart = start
        while lineStart < all.count {
            var lineEnd = lineStart
            while lineEnd < all.count && all[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let contentEnd = lineEnd > lineStart && all[lineEnd - 1] == UInt8(ascii: "\r") ? lineEnd - 1 : lineEnd
            let fieldLine = all[lineStart..<contentEnd]
            if fieldLine.isEmpty { return (lineStart, canonical) }
            guard let colon = fieldLine.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            var name = fieldLine[lineStart..<colon]
            if removesSpaceBeforeColon {
                while let last = name.last, last == 0x20 || last == 0x09 { name = name.dropLast() }
            }
            guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else { return nil }
            let value = ASCII.trimmed(fieldLine[(colon + 1)...])
            guard value.allSatisfy(Self.isFieldValueByte) else { return nil }
            if canonical {
                canonical =
                    contentEnd == lineEnd - 1 && name.endIndex == colon && colon + 1 < contentEnd
                    && all[colon + 1] == UInt8(ascii: " ")
                    && value.startIndex == colon + 2 && value.endIndex == contentEnd
            }
            body(name, value)
            lineStart = lineEnd + 1
        }
        return (all.count, canonical)
    }

    /// field-vchar, SP and HTAB (RFC 9110 §5.5): no controls, no DEL; obs-text is allowed.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
