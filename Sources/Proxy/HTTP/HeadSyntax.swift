import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds the end of a message head in bytes that may arrive a few at a time, scanning each
/// byte about once: it keeps how far it got between calls.
struct HeadEndScanner {
    /// Where the search resumes: everything before it holds no end of head.
    private var scanned = 0

    /// A new head starts: forget the last one.
    mutating func reset() {
        self.scanned = 0
    }

    /// The length of the head at the start of `buffer`, through its empty line (CRLF CRLF, or
    /// the bare-LF forms), or nil while it is incomplete. Empty lines before a head are dropped
    /// (RFC 9112 §2.2). Fails once the head is longer than `maxHeadBytes`.
    mutating func headLength(in buffer: inout ByteBuffer, maxHeadBytes: Int) -> Result<Int?, HeadTooLarge> {
        if self.scanned == 0 {
            while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
                byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
            {
                buffer.moveReaderIndex(forwardBy: 1)
            }
        }
        let start = self.scanned
        // Each line feed is found with memchr and the bytes after it are looked at: LF LF, or
        // LF CR LF, end the head. An incomplete look resumes at that line feed next time.
        let (end, resumeAt): (Int?, Int) = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return (nil, 0) }
            let count = bytes.count
            var index = start
            while index < count, let found = memchr(base + index, 0x0A, count - index) {
                let lineFeed = base.distance(to: UnsafeRawPointer(found))
                guard lineFeed + 1 < count else { return (nil, lineFeed) }
                switch bytes[lineFeed + 1] {
                case UInt8(ascii: "\n"):
                    return (lineFeed + 2, 0)
                case UInt8(ascii: "\r"):
                    guard lineFeed + 2 < count else { return (nil, lineFeed) }
                    if bytes[lineFeed + 2] == UInt8(ascii: "\n") { return (lineFeed + 3, 0) }
                default:
                    break
                }
                index = lineFeed + 1
            }
            return (nil, count)
        }
        guard let end else {
            self.scanned = resumeAt
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

    /// The index of the first `byte` in `bytes[start..<end]`, found with `memchr`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        guard let base = bytes.baseAddress, start < end else { return nil }
        return memchr(base + start, Int32(byte), end - start).map { base.distance(to: UnsafeRawPointer($0)) }
    }

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
        let count = all.count
        var canonical = true
        var lineStart = start
        while lineStart < count {
            let lineEnd = Self.firstIndex(of: UInt8(ascii: "\n"), in: all, from: lineStart, to: count) ?? count
            let contentEnd = lineEnd > lineStart && all[lineEnd - 1] == UInt8(ascii: "\r") ? lineEnd - 1 : lineEnd
            if contentEnd == lineStart { return (lineStart, canonical) }
            // The name: token bytes up to the colon (a line starting with white space, obs-fold,
            // has no name and is refused).
            var index = lineStart
            while index < contentEnd && Self.isTokenByte(all[index]) { index += 1 }
            let nameEnd = index
            if removesSpaceBeforeColon {
                while index < contentEnd && (all[index] == 0x20 || all[index] == 0x09) { index += 1 }
            }
            guard nameEnd > lineStart, index < contentEnd, all[index] == UInt8(ascii: ":") else { return nil }
            let colon = index
            // The value: leading and trailing white space dropped, no controls inside.
            index += 1
            while index < contentEnd && (all[index] == 0x20 || all[index] == 0x09) { index += 1 }
            let valueStart = index
            guard Self.areFieldValueBytes(all, from: valueStart, to: contentEnd) else { return nil }
            var valueEnd = contentEnd
            while valueEnd > valueStart && (all[valueEnd - 1] == 0x20 || all[valueEnd - 1] == 0x09) { valueEnd -= 1 }
            if canonical {
                canonical =
                    contentEnd == lineEnd - 1 && nameEnd == colon && valueStart == colon + 2
                    && all[colon + 1] == UInt8(ascii: " ") && valueEnd == contentEnd
            }
            body(all[lineStart..<nameEnd], all[valueStart..<valueEnd])
            lineStart = lineEnd + 1
        }
        return (count, canonical)
    }

    /// Whether `bytes` start with the ASCII `prefix` (a byte comparison, not a generic walk of
    /// two collections).
    @inline(__always)
    static func hasPrefix(_ bytes: Bytes, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { expected in
            guard bytes.count >= expected.count else { return false }
            var index = bytes.startIndex
            for byte in expected {
                if bytes[index] != byte { return false }
                index += 1
            }
            return true
        }
    }

    /// Whether every byte of `all[start..<end]` is a field-value byte (`isFieldValueByte`):
    /// eight at a time while a word holds none below 0x20 and no DEL, then (from a word that
    /// does, HTAB perhaps) one at a time.
    static func areFieldValueBytes(_ all: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = start
        while end - index >= 8 {
            let word = all.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Some byte is below 0x20: subtracting 0x20 from each sets the high bit of a lane
            // whose byte had it clear. Some byte is DEL: that lane of `word ^ 0x7F…` is zero.
            let belowSpace = (word &- ones &* 0x20) & ~word & highBits
            let delLanes = word ^ (ones &* 0x7F)
            let hasDel = (delLanes &- ones) & ~delLanes & highBits
            if belowSpace | hasDel != 0 { break }
            index += 8
        }
        while index < end {
            guard Self.isFieldValueByte(all[index]) else { return false }
            index += 1
        }
        return true
    }

    /// field-vchar, SP and HTAB (RFC 9110 §5.5): no controls, no DEL; obs-text is allowed.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    /// tchar (RFC 9110 §5.6.2): ALPHA, DIGIT and ``!#$%&'*+-.^_`|~``, looked up in a 128-bit
    /// set (bytes 0–63 in the low word, 64–127 in the high one).
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        return byte < 64 ? (low >> byte) & 1 == 1 : byte < 128 && (high >> (byte - 64)) & 1 == 1
    }
}
