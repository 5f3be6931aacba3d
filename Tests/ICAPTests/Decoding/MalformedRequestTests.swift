import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import ICAP

/// Every way a request can be malformed, on the server side: each is an ``ICAPParseError`` that
/// says what and where, and whose status is the answer to send. Fed whole and byte by byte.
struct MalformedRequestTests {
    private static let reqmodHead = "GET http://e.com/ HTTP/1.1\r\nHost: e.com\r\n\r\n"  // 43 bytes

    private static func reqmod(_ encapsulated: String, extraHeaders: String = "", rest: String) -> String {
        "REQMOD icap://h/r ICAP/1.0\r\nHost: h\r\n\(extraHeaders)Encapsulated: \(encapsulated)\r\n\r\n\(rest)"
    }

    @Test(arguments: [
        // Start lines.
        ("GARBAGE\r\n\r\n", ICAPParseError.badStartLine("GARBAGE"), 400),
        ("\r\n\r\n", .badStartLine(""), 400),
        ("REQMOD icap://h/r\r\n\r\n", .badStartLine("REQMOD icap://h/r"), 400),
        ("REQMOD  icap://h/r ICAP/1.0\r\n\r\n", .badStartLine("REQMOD  icap://h/r ICAP/1.0"), 400),
        ("REQMOD icap://h/r ICAP/1.0 extra\r\n\r\n", .badStartLine("REQMOD icap://h/r ICAP/1.0 extra"), 400),
        (
            "REQMOD icap://h/r HTTP/1.1\r\nEncapsulated: null-body=0\r\n\r\n",
            .badStartLine("REQMOD icap://h/r HTTP/1.1"), 400
        ),
        ("REQ\u{1}MOD icap://h/r ICAP/1.0\r\n\r\n", .badStartLine("REQ\u{1}MOD icap://h/r ICAP/1.0"), 400),
        // What c-icap answered 400 to (captured as raw-unknown-method), and wrong versions.
        (
            "FETCH icap://127.0.0.1/echo ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n",
            .unknownMethod("FETCH"), 501
        ),
        ("reqmod icap://h/r ICAP/1.0\r\n\r\n", .unknownMethod("reqmod"), 501),
        ("OPTIONS icap://h/r ICAP/2.0\r\nEncapsulated: null-body=0\r\n\r\n", .unsupportedVersion("ICAP/2.0"), 505),
        ("OPTIONS icap://h/r ICAP/1.1\r\n\r\n", .unsupportedVersion("ICAP/1.1"), 505),
        // Header lines.
        ("OPTIONS icap://h/r ICAP/1.0\nHost: h\n\n", .bareLineFeed(offset: 27), 400),
        ("OPTIONS icap://h/r ICAP/1.0\r\nHost h\r\n\r\n", .badHeaderLine(offset: 29, line: "Host h"), 400),
        ("OPTIONS icap://h/r ICAP/1.0\r\nHost: h\r\n folded\r\n\r\n", .badHeaderLine(offset: 38, line: " folded"), 400),
        ("OPTIONS icap://h/r ICAP/1.0\r\nHost : h\r\n\r\n", .badHeaderLine(offset: 29, line: "Host : h"), 400),
        ("OPTIONS icap://h/r ICAP/1.0\r\nX: a\rb\r\n\r\n", .badHeaderLine(offset: 29, line: "X: a\rb"), 400),
        (
            "OPTIONS icap://h/r ICAP/1.0\r\nEncapsulated: null-body=0\r\nEncapsulated: null-body=0\r\n\r\n",
            .duplicateHeader("Encapsulated"), 400
        ),
        ("REQMOD icap://h/r ICAP/1.0\r\nHost: h\r\n\r\n", .missingHeader("Encapsulated"), 400),
        ("RESPMOD icap://h/r ICAP/1.0\r\n\r\n", .missingHeader("Encapsulated"), 400),
        (
            reqmod("req-hdr=0, null-body=43", extraHeaders: "Preview: lots\r\n", rest: reqmodHead),
            .badHeaderValue(name: "Preview", value: "lots"), 400
        ),
        (
            reqmod("req-hdr=0, null-body=43", extraHeaders: "Preview: 1\r\nPreview: 2\r\n", rest: reqmodHead),
            .duplicateHeader("Preview"), 400
        ),
        // Encapsulated.
        (
            reqmod("req-hdr=0, foo-body=44", rest: reqmodHead),
            .badEncapsulated("req-hdr=0, foo-body=44", "unknown section \"foo-body\""), 400
        ),
        (
            reqmod("req-hdr=0, req-body=44, null-body=44", rest: reqmodHead),
            .badEncapsulated(
                "req-hdr=0, req-body=44, null-body=44",
                "two body sections, req-body and null-body; exactly one is allowed"), 400
        ),
        (
            reqmod("res-hdr=0, req-hdr=10, null-body=44", rest: reqmodHead),
            .badEncapsulated("res-hdr=0, req-hdr=10, null-body=44", "req-hdr must come once, before res-hdr"), 400
        ),
        (
            reqmod("req-hdr=50, null-body=44", rest: reqmodHead),
            .badEncapsulated("req-hdr=50, null-body=44", "the first section req-hdr must start at offset 0, not 50"),
            400
        ),
        (
            reqmod("req-hdr=0, res-hdr=44, null-body=60", rest: reqmodHead),
            .sectionNotAllowed("res-hdr", in: "a REQMOD request"), 400
        ),
        (
            reqmod("req-hdr=0, res-body=44", rest: reqmodHead), .sectionNotAllowed("res-body", in: "a REQMOD request"),
            400
        ),
        (
            reqmod("req-body=0", rest: "0\r\n\r\n"),
            .badEncapsulated("req-body=0", "a REQMOD request must carry the HTTP request head (req-hdr)"), 400
        ),
        (
            "RESPMOD icap://h/r ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body=44\r\n\r\n" + reqmodHead,
            .sectionNotAllowed("req-body", in: "a RESPMOD request"), 400
        ),
        (
            "OPTIONS icap://h/r ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body=44\r\n\r\n" + reqmodHead,
            .sectionNotAllowed("req-hdr", in: "a OPTIONS request"), 400
        ),
        // Offsets that do not match the bytes. The first is the request c-icap answered 400
        // (captured as raw-bad-offset).
        (
            "REQMOD icap://127.0.0.1/echo ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body=5\r\n\r\nGET / HTTP/1.0\r\n\r\n0\r\n\r\n",
            .headOffsetMismatch(
                "req-hdr", "(offsets 0..<5) does not end with CRLF CRLF at offset 5, where the next section starts"),
            400
        ),
        (
            reqmod("req-hdr=0, null-body=300", rest: reqmodHead),
            .headOffsetMismatch(
                "req-hdr", "ends with its empty line at offset 43, but Encapsulated puts the next section at 300"), 400
        ),
        (
            reqmod("req-hdr=0, req-body=40", rest: reqmodHead + "0\r\n\r\n"),
            .headOffsetMismatch(
                "req-hdr", "(offsets 0..<40) does not end with CRLF CRLF at offset 40, where the next section starts"),
            400
        ),
        (
            reqmod("req-hdr=0, null-body=44", rest: "GET http://e.com/ HTTP/1.1\r\nHost: e.com\n\r\n\r\n"),
            .badHTTPHead("req-hdr", offset: 39, "bare LF (lines must end in CRLF)"), 400
        ),
        (
            reqmod("req-hdr=0, null-body=41", rest: "GET http://e.com/ HTTP/9.1.1\r\nHost: e\r\n\r\n"),
            .badHTTPHead("req-hdr", offset: 18, "version \"HTTP/9.1.1\""), 400
        ),
        // Chunked bodies.
        (reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "zz\r\n"), .badChunkSize("zz", offset: 43), 400),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "100000000\r\n"),
            .chunkTooLarge("100000000", offset: 43), 400
        ),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "3\r\nabcd\r\n"),
            .missingChunkCRLF(size: 3, offset: 49), 400
        ),
        (
            reqmod(
                "req-hdr=0, req-body=43", extraHeaders: "Preview: 2\r\n", rest: reqmodHead + "3\r\nabc\r\n0\r\n\r\n"),
            .previewTooLong(limit: 2), 400
        ),
        (
            reqmod(
                "req-hdr=0, req-body=43", extraHeaders: "Preview: 4\r\n",
                rest: reqmodHead + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            .previewTooLong(limit: 4), 400
        ),
    ])
    func malformedRequestsAreRefusedPrecisely(wire: String, error: ICAPParseError, status: Int) {
        for feed in Feed.allCases {
            #expect(throws: error, "\(feed): \(wire.debugDescription)") { try decodeRequests(wire, feed: feed) }
        }
        #expect(error.status.code == status)
    }

    @Test(arguments: Feed.allCases)
    func anOversizeHeaderIsRefusedBeforeItEnds(feed: Feed) {
        let wire = "OPTIONS icap://h/r ICAP/1.0\r\nX-Big: " + String(repeating: "a", count: 300)
        #expect(throws: ICAPParseError.headerTooLarge(limit: 256)) {
            try decodeRequests(wire, feed: feed, maxHeaderBytes: 256)
        }
        #expect(ICAPParseError.headerTooLarge(limit: 256).code == .tooLarge)
    }

    @Test func encapsulatedHeadsPastTheLimitAreRefusedBeforeTheyArrive() {
        #expect(throws: ICAPParseError.encapsulatedTooLarge(offset: 5000, limit: 256)) {
            try decodeRequests(Self.reqmod("req-hdr=0, null-body=5000", rest: ""), feed: .whole, maxHeaderBytes: 256)
        }
    }

    @Test(arguments: [
        ("OPTIONS icap://h/r ICAP/1.0\r\nHost:", "an ICAP request header (34 bytes received)"),
        (
            reqmod("req-hdr=0, null-body=44", rest: "GET http://e"),
            "the encapsulated HTTP heads (12 of 44 bytes received)"
        ),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead),
            "the req-body at offset 43, before a chunk-size line ended"
        ),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "1a\r\nname="),
            "the req-body chunk data (5 of 26 bytes received)"
        ),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "1\r\nx"),
            "the req-body at offset 47, before the CRLF after a chunk"
        ),
        (
            reqmod("req-hdr=0, req-body=43", rest: reqmodHead + "0\r\n"),
            "the req-body after its last chunk, before the final empty line"
        ),
    ])
    func aConnectionClosedMidMessageIsTruncated(wire: String, inside: String) throws {
        for feed in Feed.allCases {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder()))
            defer { channel.tearDown() }
            try feed.write(wire, into: channel)
            #expect(throws: ICAPParseError.truncated(inside: inside), "\(feed)") { try channel.finish() }
        }
        #expect(ICAPParseError.truncated(inside: inside).code == .truncated)
    }

    @Test func aConnectionClosedBetweenRequestsIsClean() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder()))
        defer { channel.tearDown() }
        try channel.writeInbound(ByteBuffer(string: Captured.options.clientToServer[0].text))
        #expect(try readParts(channel, as: ICAPRequestPart.self).count == 2)
        #expect(try channel.finish().isClean)
    }

    @Test func afterAnErrorMoreBytesAreRefusedWithoutDecoding() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder()))
        defer { channel.tearDown() }
        #expect(throws: ICAPParseError.badStartLine("GARBAGE")) {
            try channel.writeInbound(ByteBuffer(string: "GARBAGE\r\n\r\n"))
        }
        let error = #expect(throws: ByteToMessageDecoderError.self) {
            try channel.writeInbound(ByteBuffer(string: Captured.options.clientToServer[0].text))
        }
        guard case .dataReceivedInErrorState(let first, _) = error else {
            Issue.record("not refused: \(String(describing: error))")
            return
        }
        #expect(first as? ICAPParseError == .badStartLine("GARBAGE"))
        #expect(try channel.readInbound(as: ICAPRequestPart.self) == nil)
        channel.tearDown()
    }

    @Test func theParserKeepsFailingOnceFailed() {
        var parser = ICAPRequestParser(maxHeaderBytes: 1024)
        var buffer = ByteBuffer(string: "GARBAGE\r\n\r\n")
        #expect(throws: ICAPParseError.badStartLine("GARBAGE")) { try parser.next(&buffer) }
        var next = ByteBuffer(string: Captured.options.clientToServer[0].text)
        #expect(throws: ICAPParseError.badStartLine("GARBAGE")) { try parser.next(&next) }
    }

    @Test func descriptionsSayWhatAndWhere() {
        #expect(ICAPParseError.unknownMethod("FETCH").description == "unknown ICAP method \"FETCH\"")
        #expect(
            ICAPParseError.unsupportedVersion("ICAP/2.0").description
                == "unsupported ICAP version \"ICAP/2.0\" (only ICAP/1.0 is spoken)")
        #expect(
            ICAPParseError.badHeaderLine(offset: 29, line: "Host h").description
                == "malformed ICAP header line at byte 29: \"Host h\"")
        #expect(
            ICAPParseError.badEncapsulated("req-hdr=0, foo-body=44", "unknown section \"foo-body\"").description
                == "Encapsulated: req-hdr=0, foo-body=44: unknown section \"foo-body\"")
        #expect(
            ICAPParseError.headOffsetMismatch("req-hdr", "ends with its empty line at offset 44, but …").description
                == "the encapsulated req-hdr head ends with its empty line at offset 44, but …")
        #expect(ICAPParseError.missingHeader("Encapsulated").status == .badRequest)
    }
}
