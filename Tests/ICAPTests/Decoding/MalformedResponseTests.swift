import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import ICAP

/// Every way a response can be wrong, on the client side, fed whole and byte by byte.
struct MalformedResponseTests {
    private static let httpResponse = "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n"  // 45 bytes

    @Test(arguments: [
        // A 200/204 without ISTag: well framed, but the server breaks RFC 3507 §4.7.
        (
            "ICAP/1.0 204 No Content\r\nEncapsulated: null-body=0\r\n\r\n", ICAPMethod.reqmod,
            ICAPParseError.missingISTag(status: 204)
        ),
        ("ICAP/1.0 200 OK\r\nEncapsulated: null-body=0\r\n\r\n", .options, .missingISTag(status: 200)),
        ("ICAP/1.0 200 OK\r\nISTag:\r\nEncapsulated: null-body=0\r\n\r\n", .options, .missingISTag(status: 200)),
        // Start lines.
        ("HTTP/1.1 200 OK\r\n\r\n", .reqmod, .badStartLine("HTTP/1.1 200 OK")),
        ("ICAP/1.0 20 OK\r\n\r\n", .reqmod, .badStartLine("ICAP/1.0 20 OK")),
        ("ICAP/1.0 2000 OK\r\n\r\n", .reqmod, .badStartLine("ICAP/1.0 2000 OK")),
        ("ICAP/1.0 099 Early\r\n\r\n", .reqmod, .badStartLine("ICAP/1.0 099 Early")),
        ("ICAP/1.0\r\n\r\n", .reqmod, .badStartLine("ICAP/1.0")),
        ("ICAP/1.1 200 OK\r\nISTag: x\r\n\r\n", .reqmod, .unsupportedVersion("ICAP/1.1")),
        ("ICAP/1.0 204 No Content\nISTag: x\n\n", .reqmod, .bareLineFeed(offset: 23)),
        ("ICAP/1.0 204 No Content\r\nISTag x\r\n\r\n", .reqmod, .badHeaderLine(offset: 25, line: "ISTag x")),
        // Encapsulated.
        ("ICAP/1.0 200 OK\r\nISTag: x\r\n\r\n", .reqmod, .missingHeader("Encapsulated")),
        (
            "ICAP/1.0 204 No Content\r\nISTag: x\r\nEncapsulated: res-hdr=0, null-body=45\r\n\r\n" + httpResponse,
            .reqmod, .bodyNotAllowed(status: 204)
        ),
        ("ICAP/1.0 100 Continue\r\nEncapsulated: res-body=0\r\n\r\n", .respmod, .bodyNotAllowed(status: 100)),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, null-body=45\r\n\r\n" + httpResponse,
            .options, .sectionNotAllowed("res-hdr", in: "a response to OPTIONS")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: opt-body=0\r\n\r\n0\r\n\r\n", .reqmod,
            .sectionNotAllowed("opt-body", in: "a response to REQMOD without heads")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: req-hdr=0, res-body=10\r\n\r\n", .reqmod,
            .sectionNotAllowed("res-body", in: "a response to REQMOD with req-hdr")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, req-body=45\r\n\r\n", .reqmod,
            .sectionNotAllowed("req-body", in: "a response to REQMOD with res-hdr")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: req-hdr=0, req-body=45\r\n\r\n", .respmod,
            .sectionNotAllowed("req-body", in: "a response to RESPMOD")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=50\r\n\r\n" + httpResponse + "4\r\n",
            .respmod,
            .headOffsetMismatch(
                "res-hdr", "ends with its empty line at offset 45, but Encapsulated puts the next section at 50")
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + httpResponse
                + "4\r\nnopes\r\n",
            .respmod, .missingChunkCRLF(size: 4, offset: 52)
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + httpResponse + "g\r\n",
            .respmod, .badChunkSize("g", offset: 45)
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + httpResponse
                + "FFFFFFFFF\r\n",
            .respmod, .chunkTooLarge("FFFFFFFFF", offset: 45)
        ),
    ])
    func malformedResponsesAreRefusedPrecisely(wire: String, method: ICAPMethod, error: ICAPParseError) {
        for feed in Feed.allCases {
            #expect(throws: error, "\(feed): \(wire.debugDescription)") {
                try decodeResponses(wire, to: [method], feed: feed)
            }
        }
    }

    @Test func missingISTagIsAValidationErrorTheClientCanTellApart() {
        let error = ICAPParseError.missingISTag(status: 200)
        #expect(error.code == .missingISTag)
        #expect(error.code != ICAPParseError.badStartLine("x").code)
        #expect(error.description == "the ICAP 200 response has no ISTag header (RFC 3507 §4.7)")
    }

    @Test(arguments: Feed.allCases)
    func aResponseToARequestNeverSentIsAnError(feed: Feed) throws {
        // One OPTIONS was sent; c-icap's answer to it decodes, a second answer does not.
        let answer = Captured.options.serverToClient[0].text
        let channel = responseDecoderChannel(expecting: [.options])
        defer { channel.tearDown() }
        try feed.write(answer, into: channel)
        #expect(try readParts(channel, as: ICAPResponsePart.self).count == 2)
        let bytes = feed == .whole ? answer.utf8.count : 1
        #expect(throws: ICAPParseError.unsolicitedResponse(bytes: bytes)) { try feed.write(answer, into: channel) }
        #expect(ICAPParseError.unsolicitedResponse(bytes: 1).code == .unsolicitedResponse)
    }

    @Test func aResponseWithNoRequestAtAllIsAnError() {
        #expect(throws: ICAPParseError.unsolicitedResponse(bytes: 25)) {
            try decodeResponses("ICAP/1.0 100 Continue\r\n\r\n", to: [], feed: .whole)
        }
    }

    @Test(arguments: [
        ("ICAP/1.0 200 OK\r\nIST", "an ICAP response header (20 bytes received)"),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + httpResponse + "4\r\nno",
            "the res-body chunk data (2 of 4 bytes received)"
        ),
        (
            "ICAP/1.0 200 OK\r\nISTag: x\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\nHTTP/1.1 403",
            "the encapsulated HTTP heads (12 of 45 bytes received)"
        ),
    ])
    func aConnectionClosedMidResponseIsTruncated(wire: String, inside: String) throws {
        for feed in Feed.allCases {
            let channel = responseDecoderChannel(expecting: [.respmod])
            defer { channel.tearDown() }
            try feed.write(wire, into: channel)
            #expect(throws: ICAPParseError.truncated(inside: inside), "\(feed)") { try channel.finish() }
        }
    }

    @Test func everyPrefixOfACapturedAnswerIsTruncatedOrCleanNeverACrash() throws {
        let answer = Captured.respmodPreview.serverToClient[1].text + Captured.respmodPreview.serverToClient[2].text
        let bytes = Array(answer.utf8)
        for length in 0...bytes.count {
            let channel = responseDecoderChannel(expecting: [.respmod])
            defer { channel.tearDown() }
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<length]))
            while try channel.readInbound(as: ICAPResponsePart.self) != nil {}
            do {
                _ = try channel.finish()
                #expect([0, 25, bytes.count].contains(length), "clean at \(length)")
            } catch let error as ICAPParseError {
                #expect(error.code == .truncated, "at \(length): \(error)")
            }
        }
    }
}
