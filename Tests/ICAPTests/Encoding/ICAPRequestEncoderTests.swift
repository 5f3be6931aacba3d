import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ICAP

/// The client side's encoder, compared byte for byte with what it must write.
struct ICAPRequestEncoderTests {
    private static let httpRequest = HTTPRequestHead(
        version: .http1_1, method: .POST, uri: "http://e.com/form", headers: ["Host": "e.com", "Content-Length": "8"])
    private static let httpRequestBytes = "POST http://e.com/form HTTP/1.1\r\nHost: e.com\r\nContent-Length: 8\r\n\r\n"

    private func encode(_ parts: [ICAPRequestPart]) throws -> String {
        let channel = EmbeddedChannel(handler: ICAPRequestEncoder())
        defer { channel.tearDown() }
        for part in parts { try channel.writeOutbound(part) }
        let bytes = try readOutboundString(channel)
        #expect(try channel.finish().isClean)
        return bytes
    }

    @Test func optionsHasOnlyAHeaderBlockWithNullBody() throws {
        let head = ICAPRequestHead(
            method: .options, uri: "icap://127.0.0.1:1344/echo", headers: ["Host": "127.0.0.1:1344"])
        #expect(
            try self.encode([.head(head, .none), .end])
                == "OPTIONS icap://127.0.0.1:1344/echo ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nEncapsulated: null-body=0\r\n\r\n"
        )
    }

    @Test func reqmodOffsetsAreComputedFromTheHeads() throws {
        let heads = try ICAPEncapsulatedHeads(request: Self.httpRequest, body: .requestBody)
        let head = ICAPRequestHead(method: .reqmod, uri: "icap://h/reqmod", headers: ["Host": "h", "Allow": "204"])
        #expect(
            try self.encode([.head(head, heads), .body(ByteBuffer(string: "a=1&b=22")), .end])
                == "REQMOD icap://h/reqmod ICAP/1.0\r\nHost: h\r\nAllow: 204\r\nEncapsulated: req-hdr=0, req-body=67\r\n\r\n"
                + Self.httpRequestBytes + "8\r\na=1&b=22\r\n0\r\n\r\n")
        #expect(Self.httpRequestBytes.utf8.count == 67)
    }

    @Test func previewEndingInsideTheBodyIsTheIeofZeroChunk() throws {
        let heads = try ICAPEncapsulatedHeads(request: Self.httpRequest, body: .requestBody)
        let head = ICAPRequestHead(method: .reqmod, uri: "icap://h/r", headers: ["Preview": "10"])
        let expected =
            "REQMOD icap://h/r ICAP/1.0\r\nPreview: 10\r\nEncapsulated: req-hdr=0, req-body=67\r\n\r\n"
            + Self.httpRequestBytes + "8\r\na=1&b=22\r\n0; ieof\r\n\r\n"
        #expect(
            try self.encode([.head(head, heads), .body(ByteBuffer(string: "a=1&b=22")), .previewEnd(ieof: true), .end])
                == expected)
        // An end inside the preview says the same.
        #expect(try self.encode([.head(head, heads), .body(ByteBuffer(string: "a=1&b=22")), .end]) == expected)
    }

    @Test func previewThenContinuationEndsWithThePlainLastChunk() throws {
        let response = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Type": "text/plain"])
        let heads = try ICAPEncapsulatedHeads(request: Self.httpRequest, response: response, body: .responseBody)
        let head = ICAPRequestHead(method: .respmod, uri: "icap://h/r", headers: ["Preview": "4"])
        let responseBytes = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        #expect(
            try self.encode([
                .head(head, heads), .body(ByteBuffer(string: "abcd")), .previewEnd(ieof: false),
                .body(ByteBuffer(string: "efghijklmnopqrstu")), .body(ByteBuffer()), .end,
            ])
                == "RESPMOD icap://h/r ICAP/1.0\r\nPreview: 4\r\nEncapsulated: req-hdr=0, res-hdr=67, res-body=112\r\n\r\n"
                + Self.httpRequestBytes + responseBytes + "4\r\nabcd\r\n0\r\n\r\n11\r\nefghijklmnopqrstu\r\n0\r\n\r\n")
        #expect(responseBytes.utf8.count == 45)
    }

    @Test func aFinalAnswerToThePreviewLetsTheNextRequestStart() throws {
        let heads = try ICAPEncapsulatedHeads(request: Self.httpRequest, body: .requestBody)
        let head = ICAPRequestHead(method: .reqmod, uri: "icap://h/r", headers: ["Preview": "4"])
        let bytes = try self.encode([
            .head(head, heads), .body(ByteBuffer(string: "abcd")), .previewEnd(ieof: false),
            .head(ICAPRequestHead(method: .options, uri: "icap://h/r"), .none), .end,
        ])
        #expect(
            bytes.hasSuffix("4\r\nabcd\r\n0\r\n\r\nOPTIONS icap://h/r ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n"))
    }

    @Test func anEncapsulatedHeaderGivenIsReplacedByTheComputedOne() throws {
        let head = ICAPRequestHead(
            method: .options, uri: "icap://h/s", headers: ["Encapsulated": "req-hdr=0, null-body=999", "Host": "h"])
        #expect(
            try self.encode([.head(head, .none), .end])
                == "OPTIONS icap://h/s ICAP/1.0\r\nHost: h\r\nEncapsulated: null-body=0\r\n\r\n")
    }

    @Test func rawHeadBytesAreWrittenAsGiven() throws {
        // A head as received (c-icap-client repeats Content-Length) goes out byte for byte.
        let raw = "POST http://example.com/form HTTP/1.0\r\nContent-Length: 26\r\nContent-Length: 26\r\n\r\n"
        let heads = try ICAPEncapsulatedHeads(
            requestHeadBytes: ByteBuffer(string: raw), responseHeadBytes: nil, body: .nullBody)
        #expect(heads.encapsulated.headerValue == "req-hdr=0, null-body=\(raw.utf8.count)")
        let bytes = try self.encode([.head(ICAPRequestHead(method: .reqmod, uri: "icap://h/r"), heads), .end])
        #expect(bytes == "REQMOD icap://h/r ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body=81\r\n\r\n" + raw)
    }

    @Test(arguments: [
        (
            [ICAPRequestPart.body(ByteBuffer(string: "x"))],
            ICAPEncoderError.unexpectedPart("body data", state: "before a head")
        ),
        ([.end], .unexpectedPart("an end", state: "before a head")),
        ([.previewEnd(ieof: true)], .unexpectedPart("a preview end", state: "outside a preview")),
    ])
    func partsOutOfOrderFailTheirWrite(parts: [ICAPRequestPart], error: ICAPEncoderError) throws {
        let channel = EmbeddedChannel(handler: ICAPRequestEncoder())
        defer { channel.tearDown() }
        for part in parts.dropLast() { try channel.writeOutbound(part) }
        #expect(throws: error) { try channel.writeOutbound(parts.last!) }
        #expect(throws: error) { try channel.throwIfErrorCaught() }
    }

    @Test func misuseIsAnErrorNotACrash() throws {
        let options = ICAPRequestPart.head(ICAPRequestHead(method: .options, uri: "icap://h/s"), .none)
        let withBody = ICAPRequestPart.head(
            ICAPRequestHead(method: .reqmod, uri: "icap://h/s", headers: ["Preview": "2"]),
            try ICAPEncapsulatedHeads(request: Self.httpRequest, body: .requestBody))
        let cases: [([ICAPRequestPart], ICAPEncoderError)] = [
            ([options, .body(ByteBuffer(string: "x"))], .bodyWithoutBodySection),
            ([options, options], .unexpectedPart("a head", state: "before the previous message's end")),
            ([options, .previewEnd(ieof: false)], .unexpectedPart("a preview end", state: "outside a preview")),
            ([withBody, .body(ByteBuffer(string: "abc"))], .previewExceeded(limit: 2)),
            (
                [withBody, .previewEnd(ieof: true), .body(ByteBuffer(string: "a"))],
                .unexpectedPart("body data", state: "after the preview ended with ieof")
            ),
            (
                [withBody, .previewEnd(ieof: false), .previewEnd(ieof: false)],
                .unexpectedPart("a preview end", state: "outside a preview")
            ),
            (
                [.head(ICAPRequestHead(method: .options, uri: "icap://h/s", headers: ["X": "a\r\nB: c"]), .none)],
                .invalidField(name: "X")
            ),
            (
                [.head(ICAPRequestHead(method: .options, uri: "icap://h/s", headers: ["Bad Name": "v"]), .none)],
                .invalidField(name: "Bad Name")
            ),
            (
                [.head(ICAPRequestHead(method: .options, uri: "icap://h/s", headers: ["Preview": "many"]), .none)],
                .invalidField(name: "Preview")
            ),
            (
                [.head(ICAPRequestHead(method: .options, uri: "icap://h/ s"), .none)],
                .invalidStartLine("the ICAP URI \"icap://h/ s\"")
            ),
            ([.head(ICAPRequestHead(method: .options, uri: ""), .none)], .invalidStartLine("the ICAP URI \"\"")),
        ]
        for (parts, error) in cases {
            let channel = EmbeddedChannel(handler: ICAPRequestEncoder())
            defer { channel.tearDown() }
            for part in parts.dropLast() { try channel.writeOutbound(part) }
            #expect(throws: error) { try channel.writeOutbound(parts.last!) }
            _ = try? channel.throwIfErrorCaught()
            channel.tearDown()
        }
    }

    @Test func cicapClientRequestsAreReproducedByteForByte() throws {
        // Decoded and encoded again, every c-icap-client request comes out as c-icap-client wrote it:
        // header order, Encapsulated offsets, chunk sizes, the preview's zero chunk.
        for capture in Captured.all where !capture.name.hasPrefix("squid") {
            let parts = try decodeUnmerged(capture.clientBytes, answers: capture.statusCodes)
            let channel = EmbeddedChannel(handler: ICAPRequestEncoder())
            defer { channel.tearDown() }
            var written = ""
            for part in parts {
                try channel.writeOutbound(part)
                written += try readOutboundString(channel)
            }
            #expect(written == capture.clientBytes, "\(capture.name)")
            #expect(try channel.finish().isClean)
        }
    }
}

/// Decodes requests whole, keeping each chunk's data a part of its own, as a re-encoding needs.
func decodeUnmerged(_ text: String, answers: [Int]) throws -> [ICAPRequestPart] {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder()))
    defer { channel.tearDown() }
    try channel.pipeline.syncOperations.addHandler(ScriptedAnswerer(answers))
    try channel.writeInbound(ByteBuffer(string: text))
    var parts: [ICAPRequestPart] = []
    while let part = try channel.readInbound(as: ICAPRequestPart.self) { parts.append(part) }
    return parts
}
