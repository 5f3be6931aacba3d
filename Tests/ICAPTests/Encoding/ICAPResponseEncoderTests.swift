import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ICAP

/// The server side's encoder, compared byte for byte with what it must write, c-icap's bytes
/// among them.
struct ICAPResponseEncoderTests {
    private func encode(_ parts: [ICAPResponsePart]) throws -> String {
        let channel = EmbeddedChannel(handler: ICAPResponseEncoder())
        defer { channel.tearDown() }
        for part in parts { try channel.writeOutbound(part) }
        let bytes = try readOutboundString(channel)
        #expect(try channel.finish().isClean)
        return bytes
    }

    @Test func continueIsABareStatusLineExactlyAsCICAPSendsIt() throws {
        let bytes = try self.encode([.head(ICAPResponseHead(status: .continue), .none), .end])
        #expect(bytes == "ICAP/1.0 100 Continue\r\n\r\n")
        #expect(bytes == Captured.respmodPreview.serverToClient[1].text)
    }

    @Test func noContentCarriesISTagAndNullBody() throws {
        let head = ICAPResponseHead(status: .noContent, headers: ["ISTag": "\"policy-7\""])
        #expect(
            try self.encode([.head(head, .none), .end])
                == "ICAP/1.0 204 No Content\r\nISTag: \"policy-7\"\r\nEncapsulated: null-body=0\r\n\r\n")
    }

    @Test func cicapsUnmodifiedDiffersOnlyByTheEncapsulatedHeaderItLeavesOut() throws {
        let head = ICAPResponseHead(
            statusCode: 204, reasonPhrase: "Unmodified",
            headers: ["Server": "C-ICAP/0.5.10", "Connection": "keep-alive", "ISTag": "\"CI0001-XXXXXXXXX\""])
        let captured = Captured.reqmodGet.serverToClient[1].text
        #expect(
            try self.encode([.head(head, .none), .end])
                == Expected.addingNullBody(captured))
    }

    @Test func optionsAnswerHasEveryHeaderAServiceAnnounces() throws {
        let options = ICAPOptions(
            methods: [.reqmod], istag: "\"portcullis-42\"", service: "Portcullis policy", maxConnections: 100,
            optionsTTL: 3600, preview: 1024, transferPreview: ["*"], allows204: true)
        let bytes = try self.encode([.head(options.responseHead, .none), .end])
        #expect(
            bytes
                == "ICAP/1.0 200 OK\r\nMethods: REQMOD\r\nService: Portcullis policy\r\nISTag: \"portcullis-42\"\r\n"
                + "Max-Connections: 100\r\nOptions-TTL: 3600\r\nPreview: 1024\r\nTransfer-Preview: *\r\nAllow: 204\r\n"
                + "Encapsulated: null-body=0\r\n\r\n")
        // And reads back the same.
        let parts = try decodeResponses(bytes, to: [.options], feed: .whole)
        guard case .head(let head, _) = parts.first else {
            Issue.record("no head")
            return
        }
        #expect(try ICAPOptions(parsing: head) == options)
    }

    @Test func cicapsOptionsAnswerReadsAsOptions() throws {
        let parts = try decodeResponses(Captured.options.serverToClient[0].text, to: [.options], feed: .whole)
        guard case .head(let head, _) = parts.first else {
            Issue.record("no head")
            return
        }
        let options = try ICAPOptions(parsing: head)
        #expect(options.methods == [.respmod, .reqmod])
        #expect(options.istag == "\"CI0001-XXXXXXXXX\"")
        #expect(options.service == "C-ICAP/0.5.10 server - Echo demo service")
        #expect(options.preview == 1024)
        #expect(options.optionsTTL == 3600)
        #expect(options.maxConnections == nil)  // c-icap does not send it
        #expect(options.transferPreview == ["*"])
        #expect(options.allows204)
    }

    @Test func optionsParsingRefusesWhatItCannotUse() {
        #expect(throws: ICAPParseError.missingHeader("Methods")) {
            try ICAPOptions(parsing: ICAPResponseHead(status: .ok, headers: ["ISTag": "\"x\""]))
        }
        #expect(throws: ICAPParseError.badHeaderValue(name: "Methods", value: "REQMOD, FETCH")) {
            try ICAPOptions(
                parsing: ICAPResponseHead(status: .ok, headers: ["Methods": "REQMOD, FETCH", "ISTag": "x"]))
        }
        #expect(throws: ICAPParseError.missingISTag(status: 200)) {
            try ICAPOptions(parsing: ICAPResponseHead(status: .ok, headers: ["Methods": "REQMOD"]))
        }
        #expect(throws: ICAPParseError.badHeaderValue(name: "Options-TTL", value: "soon")) {
            try ICAPOptions(
                parsing: ICAPResponseHead(
                    status: .ok, headers: ["Methods": "REQMOD", "ISTag": "x", "Options-TTL": "soon"]))
        }
    }

    @Test func cicapsEchoAnswersAreReproducedByteForByte() throws {
        // The adapted response c-icap sent, built from its head and heads: same bytes.
        let captured = Captured.respmodSmallNo204.serverToClient[1].text
        let httpHead =
            "HTTP/1.0 200 OK\r\nDate: Thu Nov 26 21:04:04 2026\r\nLast-Modified: Thu Nov 26 21:04:04 2026\r\nContent-Length: 26\r\nVia: ICAP/1.0 vm (C-ICAP/0.5.10 Echo demo service )\r\n\r\n"
        let head = ICAPResponseHead(
            status: .ok,
            headers: ["Server": "C-ICAP/0.5.10", "Connection": "keep-alive", "ISTag": "\"CI0001-XXXXXXXXX\""])
        let heads = try ICAPEncapsulatedHeads(
            requestHeadBytes: nil, responseHeadBytes: ByteBuffer(string: httpHead), body: .responseBody)
        #expect(
            try self.encode([.head(head, heads), .body(ByteBuffer(string: "name=portcullis&lang=swift")), .end])
                == captured)
    }

    @Test func everyCapturedAnswerWithEncapsulatedIsReproducedByteForByte() throws {
        for capture in Captured.all {
            let parts = try decodeResponsesUnmerged(capture.serverBytes, to: capture.methods)
            let channel = EmbeddedChannel(handler: ICAPResponseEncoder())
            defer { channel.tearDown() }
            var written = ""
            for part in parts {
                try channel.writeOutbound(part)
                written += try readOutboundString(channel)
            }
            // c-icap leaves Encapsulated out of its 204s; we write null-body=0 as RFC 3507 asks.
            let expected = capture.serverToClient.map { piece in
                piece.text.contains("Encapsulated:") || piece.text.hasPrefix("ICAP/1.0 100")
                    ? piece.text
                    : Expected.addingNullBody(piece.text)
            }.joined()
            #expect(written == expected, "\(capture.name)")
        }
    }

    @Test func misuseIsAnErrorNotACrash() throws {
        let ok = ICAPResponseHead(status: .ok, headers: ["ISTag": "\"x\""])
        let withBody = try ICAPEncapsulatedHeads(
            response: HTTPResponseHead(version: .http1_1, status: .forbidden), body: .responseBody)
        let cases: [([ICAPResponsePart], ICAPEncoderError)] = [
            ([.head(ICAPResponseHead(status: .continue), withBody)], .continueWithMessage),
            ([.head(ICAPResponseHead(status: .noContent), withBody)], .continueWithMessage),
            ([.head(ok, .none), .body(ByteBuffer(string: "x"))], .bodyWithoutBodySection),
            (
                [.head(ok, withBody), .head(ok, withBody)],
                .unexpectedPart("a head", state: "before the previous message's end")
            ),
            ([.body(ByteBuffer(string: "x"))], .unexpectedPart("body data", state: "before a head")),
            ([.end], .unexpectedPart("an end", state: "before a head")),
            (
                [.head(ICAPResponseHead(statusCode: 200, reasonPhrase: "OK\r\nX: y"), .none)],
                .invalidStartLine("the status 200 \"OK\\r\\nX: y\"")
            ),
            (
                [.head(ICAPResponseHead(statusCode: 42, reasonPhrase: "Odd"), .none)],
                .invalidStartLine("the status 42 \"Odd\"")
            ),
            (
                [.head(ICAPResponseHead(status: .ok, headers: ["ISTag": "\"x\"\n"]), .none)],
                .invalidField(name: "ISTag")
            ),
        ]
        for (parts, error) in cases {
            let channel = EmbeddedChannel(handler: ICAPResponseEncoder())
            defer { channel.tearDown() }
            for part in parts.dropLast() { try channel.writeOutbound(part) }
            #expect(throws: error) { try channel.writeOutbound(parts.last!) }
            _ = try? channel.throwIfErrorCaught()
            channel.tearDown()
        }
    }
}

/// Decodes responses whole, keeping each chunk's data a part of its own.
func decodeResponsesUnmerged(_ text: String, to methods: [ICAPMethod]) throws -> [ICAPResponsePart] {
    let channel = responseDecoderChannel(expecting: methods)
    defer { channel.tearDown() }
    try channel.writeInbound(ByteBuffer(string: text))
    var parts: [ICAPResponsePart] = []
    while let part = try channel.readInbound(as: ICAPResponsePart.self) { parts.append(part) }
    return parts
}
