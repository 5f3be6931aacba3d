import NIOCore
import Testing

@testable import ICAP

/// The chunked framing, driven with no channel, whole and byte by byte.
struct ChunkedBodyParserTests {
    /// The body and how it ended, or the error, for `wire`.
    private func parse(_ wire: String, feed: Feed, offset: Int = 0) throws -> (body: String, ieof: Bool?) {
        var parser = ChunkedBodyParser(section: "res-body", offset: offset, maxTrailerBytes: 64)
        var body = ""
        var ieof: Bool?
        func drain(_ buffer: inout ByteBuffer) throws {
            while let event = try parser.next(&buffer) {
                switch event {
                case .data(let data): body += String(buffer: data)
                case .end(let flag): ieof = flag
                }
            }
        }
        switch feed {
        case .whole:
            var buffer = ByteBuffer(string: wire)
            try drain(&buffer)
        case .byteByByte:
            var buffer = ByteBuffer()
            for byte in wire.utf8 {
                buffer.writeInteger(byte)
                try drain(&buffer)
                buffer.discardReadBytes()
            }
        }
        return (body, ieof)
    }

    @Test(arguments: Feed.allCases)
    func hexSizesInEitherCaseAndExtensionsAreRead(feed: Feed) throws {
        let result = try self.parse(
            "5;name=value\r\nhello\r\nA ; x\r\n, world..!\r\na\r\n0123456789\r\n0\r\n\r\n", feed: feed)
        #expect(result.body == "hello, world..!0123456789")
        #expect(result.ieof == false)
    }

    @Test(arguments: Feed.allCases)
    func ieofIsRecognisedOnTheZeroChunkAmongOtherExtensions(feed: Feed) throws {
        #expect(try self.parse("2\r\nab\r\n0; ieof\r\n\r\n", feed: feed).ieof == true)
        #expect(try self.parse("0;IEOF\r\n\r\n", feed: feed).ieof == true)
        #expect(try self.parse("0; x=1; ieof ;y\r\n\r\n", feed: feed).ieof == true)
        #expect(try self.parse("0; ieofx\r\n\r\n", feed: feed).ieof == false)
        #expect(try self.parse("0\r\n\r\n", feed: feed).ieof == false)
    }

    @Test(arguments: Feed.allCases)
    func trailersAfterTheLastChunkAreSkipped(feed: Feed) throws {
        // Squid offers "Allow: trailers"; a server that takes it up may send trailer fields.
        let result = try self.parse("1\r\nx\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n", feed: feed)
        #expect(result.body == "x")
        #expect(result.ieof == false)
    }

    @Test func aChunkOfExactlyTwoToThe31IsAccepted() throws {
        var parser = ChunkedBodyParser(section: "req-body", offset: 0, maxTrailerBytes: 0)
        var buffer = ByteBuffer(string: "80000000\r\nabc")
        #expect(try parser.next(&buffer) == .data(ByteBuffer(string: "abc")))
        #expect(parser.position == "the req-body chunk data (3 of 2147483648 bytes received)")
    }

    @Test(arguments: [
        ("zz\r\n", ICAPParseError.badChunkSize("zz", offset: 100)),
        ("\r\n", ICAPParseError.badChunkSize("", offset: 100)),
        (" 5\r\nhello\r\n", ICAPParseError.badChunkSize(" 5", offset: 100)),
        ("5x\r\nhello\r\n", ICAPParseError.badChunkSize("5x", offset: 100)),
        ("-5\r\n", ICAPParseError.badChunkSize("-5", offset: 100)),
        ("0x5\r\n", ICAPParseError.badChunkSize("0x5", offset: 100)),
        ("5\r\nhello\r\nq\r\n", ICAPParseError.badChunkSize("q", offset: 110)),
        ("80000001\r\n", ICAPParseError.chunkTooLarge("80000001", offset: 100)),
        ("FFFFFFFFFFFFFFFFFFFF\r\n", ICAPParseError.chunkTooLarge("FFFFFFFFFFFFFFFFFFFF", offset: 100)),
        ("3\r\nabcdef\r\n", ICAPParseError.missingChunkCRLF(size: 3, offset: 106)),
        ("3\r\nabc\n0\r\n\r\n", ICAPParseError.missingChunkCRLF(size: 3, offset: 106)),
        ("3\r\nabc\r0\r\n\r\n", ICAPParseError.missingChunkCRLF(size: 3, offset: 106)),
        ("5\nhello\r\n", ICAPParseError.badChunkLine(offset: 101, "ends in a bare LF (lines must end in CRLF)")),
        ("0\r\n\n", ICAPParseError.badChunkLine(offset: 103, "ends in a bare LF (lines must end in CRLF)")),
        ("0\r\nno colon\r\n\r\n", ICAPParseError.badChunkLine(offset: 103, "is not a trailer field \"no colon\"")),
        (
            "0\r\nX: " + String(repeating: "t", count: 80) + "\r\n\r\n",
            ICAPParseError.badChunkLine(offset: 103, "takes the trailers past 64 bytes")
        ),
        (String(repeating: "0", count: 5000), ICAPParseError.chunkLineTooLong(offset: 100, limit: 4096)),
    ])
    func malformedChunksAreRefusedWithTheirOffset(wire: String, error: ICAPParseError) {
        for feed in Feed.allCases {
            #expect(throws: error, "\(wire.debugDescription) \(feed)") { try self.parse(wire, feed: feed, offset: 100) }
        }
        #expect(error.code == .badChunkedBody)
    }

    @Test func descriptionsNameTheSizeAndOffset() {
        #expect(
            ICAPParseError.missingChunkCRLF(size: 26, offset: 180).description
                == "the chunk of 26 bytes (size 1a) is not followed by CRLF at offset 180")
        #expect(
            ICAPParseError.badChunkSize("zz", offset: 154).description
                == "chunk size line \"zz\" at offset 154 is not a hexadecimal size")
        #expect(
            ICAPParseError.chunkTooLarge("80000001", offset: 154).description
                == "chunk size \"80000001\" at offset 154 is over 2^31 bytes")
    }
}
