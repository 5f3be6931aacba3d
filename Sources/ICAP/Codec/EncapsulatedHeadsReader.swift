import NIOCore

/// Reads the encapsulated HTTP heads: the first `bodyOffset` bytes after the ICAP header, cut at
/// the `Encapsulated` offsets. Each head must end with its empty line (CRLF CRLF) exactly where
/// the next section starts. That is checked as bytes arrive, so a head that ends early (offsets
/// beyond the data) fails at once instead of waiting for bytes that will never come.
struct EncapsulatedHeadsReader {
    private struct Section {
        var name: String
        var range: Range<Int>
    }

    let encapsulated: Encapsulated
    private let sections: [Section]
    /// How many bytes of the heads have been checked.
    private var checked = 0
    private var tail: UInt32 = 0

    init(_ encapsulated: Encapsulated) {
        self.encapsulated = encapsulated
        var sections: [Section] = []
        if let start = encapsulated.requestHeaderOffset {
            sections.append(
                Section(name: "req-hdr", range: start..<(encapsulated.responseHeaderOffset ?? encapsulated.bodyOffset)))
        }
        if let start = encapsulated.responseHeaderOffset {
            sections.append(Section(name: "res-hdr", range: start..<encapsulated.bodyOffset))
        }
        self.sections = sections
    }

    /// The heads, once all their bytes are in `buffer` (which they are then consumed from), or nil.
    ///
    /// - Throws: ``ICAPParseError`` if a head does not end at its offset, or is malformed.
    mutating func read(_ buffer: inout ByteBuffer) throws(ICAPParseError) -> ICAPEncapsulatedHeads? {
        let total = self.encapsulated.bodyOffset
        let available = min(buffer.readableBytes, total)
        if self.checked < available {
            try self.check(buffer, upTo: available)
        }
        guard buffer.readableBytes >= total else { return nil }
        var requestBytes: ByteBuffer?
        var responseBytes: ByteBuffer?
        for section in self.sections {
            let bytes = buffer.getSlice(at: buffer.readerIndex + section.range.lowerBound, length: section.range.count)!
            if section.name == "req-hdr" { requestBytes = bytes } else { responseBytes = bytes }
        }
        let request = try requestBytes.map { bytes throws(ICAPParseError) in try HTTPHeadBytes.parseRequestHead(bytes) }
        let response = try responseBytes.map { bytes throws(ICAPParseError) in
            try HTTPHeadBytes.parseResponseHead(bytes)
        }
        buffer.moveReaderIndex(forwardBy: total)
        return ICAPEncapsulatedHeads(
            encapsulated: self.encapsulated, requestHeadBytes: requestBytes, responseHeadBytes: responseBytes,
            request: request, response: response)
    }

    /// What has been received, for a truncation error.
    func position(received: Int) -> String {
        let total = self.encapsulated.bodyOffset
        return "the encapsulated HTTP heads (\(min(received, total)) of \(total) bytes received)"
    }

    private mutating func check(_ buffer: ByteBuffer, upTo end: Int) throws(ICAPParseError) {
        var checked = self.checked
        var tail = self.tail
        let sections = self.sections
        let failure: ICAPParseError? = buffer.withUnsafeReadableBytes { bytes in
            for section in sections where section.range.upperBound > checked {
                let (start, next) = (section.range.lowerBound, section.range.upperBound)
                if checked <= start {
                    checked = start
                    tail = 0
                }
                while checked < min(end, next) {
                    tail = tail << 8 | UInt32(bytes[checked])
                    checked += 1
                    if tail == 0x0D0A_0D0A && checked != next {
                        return .headOffsetMismatch(
                            section.name,
                            "ends with its empty line at offset \(checked), but Encapsulated puts the next section at \(next)"
                        )
                    }
                    if checked == next && tail != 0x0D0A_0D0A {
                        return .headOffsetMismatch(
                            section.name,
                            "(offsets \(start)..<\(next)) does not end with CRLF CRLF at offset \(next), where the next section starts"
                        )
                    }
                }
                if checked < next { break }
            }
            return nil
        }
        if let failure { throw failure }
        self.checked = checked
        self.tail = tail
    }
}
