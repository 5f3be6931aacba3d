import NIOCore

/// Finds the end of an ICAP header block, the CRLF CRLF after its last field, in bytes that
/// arrive piecemeal: each byte is looked at once, however the block is split.
///
/// Only CRLF ends a line. Neither c-icap (which searches for `\r\n\r\n` and never answers a
/// bare-LF request) nor Squid sends a bare LF, so one is reported at once rather than waited out.
struct HeadBlockScanner {
    private var scanned = 0
    private var tail: UInt32 = 0

    /// Forgets the block scanned so far, for the next message.
    mutating func reset() {
        self.scanned = 0
        self.tail = 0
    }

    /// How many bytes have been looked at without finding the end.
    var bytesScanned: Int { self.scanned }

    /// The length of the block through its final CRLF CRLF, or nil when it has not ended yet.
    ///
    /// - Throws: ``ICAPParseError`` for a bare LF, or a block longer than `limit`.
    mutating func scan(_ buffer: ByteBuffer, limit: Int) throws(ICAPParseError) -> Int? {
        let start = self.scanned
        var tail = self.tail
        let found: Result<Int?, ICAPParseError> = buffer.withUnsafeReadableBytes { bytes in
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if byte == ASCII.lf && tail & 0xFF != UInt32(ASCII.cr) {
                    return .failure(.bareLineFeed(offset: index))
                }
                tail = tail << 8 | UInt32(byte)
                index += 1
                if tail == 0x0D0A_0D0A { return .success(index) }
                if index > limit { return .failure(.headerTooLarge(limit: limit)) }
            }
            return .success(nil)
        }
        switch found {
        case .failure(let error):
            throw error
        case .success(let end?):
            self.reset()
            return end
        case .success(nil):
            self.scanned = buffer.readableBytes
            self.tail = tail
            return nil
        }
    }
}
