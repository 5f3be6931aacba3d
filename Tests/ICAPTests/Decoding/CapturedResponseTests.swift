import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOTestUtils
import Testing

@testable import ICAP

/// c-icap's responses, as captured, decoded on the client side whole and byte by byte.
struct CapturedResponseTests {
    private static let unmodifiedHeaders: KeyValuePairs<String, String> = [
        "Server": "C-ICAP/0.5.10", "Connection": "keep-alive", "ISTag": "\"CI0001-XXXXXXXXX\"",
    ]

    @Test(arguments: Feed.allCases)
    func optionsAnswerIsAHeadWithNullBody(feed: Feed) throws {
        let parts = try decodeResponses(Captured.options.serverToClient[0].text, to: [.options], feed: feed)
        #expect(
            parts == [
                .head(
                    ICAPResponseHead(
                        statusCode: 200, reasonPhrase: "OK",
                        headers: Expected.headers([
                            "Methods": "RESPMOD, REQMOD", "Service": "C-ICAP/0.5.10 server - Echo demo service",
                            "ISTag": "\"CI0001-XXXXXXXXX\"", "Transfer-Preview": "*", "Options-TTL": "3600",
                            "Date": "Thu, 26 Nov 2026 21:03:30 GMT", "Preview": "1024", "Allow": "204",
                            "X-Include": "X-Authenticated-User, X-Authenticated-Groups",
                            "Encapsulated": "null-body=0",
                        ])),
                    .none),
                .end,
            ])
        guard case .head(let head, _) = parts.first else { return }
        #expect(head.istag == "\"CI0001-XXXXXXXXX\"")
        #expect(head.status == .ok)
    }

    @Test(arguments: Feed.allCases)
    func unmodifiedWithoutEncapsulatedIsAHeadThenEnd(feed: Feed) throws {
        // c-icap's 204 has no Encapsulated header (RFC 3507 asks for null-body=0) and says "Unmodified".
        let parts = try decodeResponses(Captured.reqmodGet.serverToClient[1].text, to: [.reqmod], feed: feed)
        #expect(
            parts == [
                .head(
                    ICAPResponseHead(
                        statusCode: 204, reasonPhrase: "Unmodified", headers: Expected.headers(Self.unmodifiedHeaders)),
                    .none),
                .end,
            ])
    }

    @Test(arguments: Feed.allCases)
    func reqmodAnswerCarriesTheAdaptedRequestAndBody(feed: Feed) throws {
        let parts = try decodeResponses(Captured.reqmodPostSmall.serverToClient[1].text, to: [.reqmod], feed: feed)
        let httpHead =
            "POST http://example.com/form HTTP/1.0\r\nLast-Modified: Thu Nov 26 21:03:44 2026\r\nContent-Length: 26\r\nContent-Length: 26\r\nUser-Agent: C-ICAP-Client/x.xx\r\nVia: ICAP/1.0 vm (C-ICAP/0.5.10 Echo demo service )\r\n\r\n"
        #expect(
            parts == [
                .head(
                    ICAPResponseHead(
                        statusCode: 200, reasonPhrase: "OK",
                        headers: Expected.headers([
                            "Server": "C-ICAP/0.5.10", "Connection": "keep-alive", "ISTag": "\"CI0001-XXXXXXXXX\"",
                            "Encapsulated": "req-hdr=0, req-body=207",
                        ])),
                    try Expected.heads("req-hdr=0, req-body=207", request: httpHead)),
                .body(Expected.body("name=portcullis&lang=swift")),
                .end,
            ])
    }

    @Test(arguments: Feed.allCases)
    func respmodAnswerCarriesTheAdaptedResponseAndBody(feed: Feed) throws {
        let parts = try decodeResponses(Captured.respmodSmallNo204.serverToClient[1].text, to: [.respmod], feed: feed)
        let httpHead =
            "HTTP/1.0 200 OK\r\nDate: Thu Nov 26 21:04:04 2026\r\nLast-Modified: Thu Nov 26 21:04:04 2026\r\nContent-Length: 26\r\nVia: ICAP/1.0 vm (C-ICAP/0.5.10 Echo demo service )\r\n\r\n"
        #expect(
            parts == [
                .head(
                    ICAPResponseHead(
                        statusCode: 200, reasonPhrase: "OK",
                        headers: Expected.headers([
                            "Server": "C-ICAP/0.5.10", "Connection": "keep-alive", "ISTag": "\"CI0001-XXXXXXXXX\"",
                            "Encapsulated": "res-hdr=0, res-body=165",
                        ])),
                    try Expected.heads("res-hdr=0, res-body=165", response: httpHead)),
                .body(Expected.body("name=portcullis&lang=swift")),
                .end,
            ])
        guard case .head(_, let heads) = parts.first else { return }
        #expect(heads.response?.headers["Via"] == ["ICAP/1.0 vm (C-ICAP/0.5.10 Echo demo service )"])
    }

    @Test(arguments: Feed.allCases)
    func respmodAnswerWithNullBodyEndsAfterTheHead(feed: Feed) throws {
        let parts = try decodeResponses(Captured.respmodNoBodyNo204.serverToClient[1].text, to: [.respmod], feed: feed)
        try #require(parts.count == 2)
        guard case .head(_, let heads) = parts[0] else { return }
        #expect(
            heads.encapsulated
                == Encapsulated(requestHeaderLength: nil, responseHeaderLength: 164, bodySection: .nullBody))
        #expect(heads.response?.headers["Content-Length"] == ["0"])
        #expect(parts[1] == .end)
    }

    @Test(arguments: Feed.allCases)
    func continueIsAnInterimHeadBeforeTheFinalAnswer(feed: Feed) throws {
        let capture = Captured.respmodPreview
        let parts = try decodeResponses(
            capture.serverToClient[1].text + capture.serverToClient[2].text, to: [.respmod], feed: feed)
        try #require(parts.count == 5)
        #expect(parts[0] == .head(ICAPResponseHead(statusCode: 100, reasonPhrase: "Continue"), .none))
        #expect(parts[1] == .end)
        guard case .head(let head, let heads) = parts[2] else { return }
        #expect(head.statusCode == 200)
        #expect(heads.encapsulated.headerValue == "res-hdr=0, res-body=167")
        #expect(heads.response?.headers["Content-Length"] == ["2720"])
        #expect(parts[3] == .body(Expected.body(Expected.largeBody)))
        #expect(parts[4] == .end)
    }

    @Test(arguments: [
        (Captured.unknownServiceResponse, 404, "Service not found"),
        (Captured.garbageResponse, 400, "Bad request"),
        (Captured.unknownMethodResponse, 400, "Bad request"),
    ])
    func errorAnswersWithoutISTagOrEncapsulatedAreHeads(piece: Piece, status: Int, reason: String) throws {
        // c-icap leaves ISTag and Encapsulated out of its error answers; they carry nothing.
        for feed in Feed.allCases {
            let parts = try decodeResponses(piece.text, to: [.options], feed: feed)
            #expect(
                parts == [
                    .head(
                        ICAPResponseHead(
                            statusCode: status, reasonPhrase: reason,
                            headers: ["Server": "C-ICAP/0.5.10", "Connection": "close"]),
                        .none),
                    .end,
                ])
        }
    }

    @Test(arguments: Feed.allCases)
    func everyCapturedServerStreamDecodesWholeAsItDoesByteByByte(feed: Feed) throws {
        for capture in Captured.all {
            let methods = try decodeRequests(capture.clientBytes, feed: .whole, answers: capture.statusCodes).compactMap
            {
                if case .head(let head, _) = $0 { return head.method }
                return nil
            }
            #expect(methods == capture.methods)
            let whole = try decodeResponses(capture.serverBytes, to: methods, feed: .whole)
            #expect(try decodeResponses(capture.serverBytes, to: methods, feed: feed) == whole, "\(capture.name)")
            let finals = whole.filter {
                if case .head(let head, _) = $0 { return head.statusCode >= 200 }
                return false
            }
            #expect(finals.count == methods.count, "\(capture.name)")
        }
    }

    @Test func bodilessResponsesPassNIOsDecoderVerifier() throws {
        let pieces = [
            Captured.respmodNoBody.serverToClient[1], Captured.respmodNoBodyNo204.serverToClient[1],
            Captured.respmodPreview.serverToClient[1], Captured.unknownServiceResponse,
        ]
        let pairs = try pieces.map { piece in
            (ByteBuffer(string: piece.text), try decodeResponses(piece.text, to: [.respmod], feed: .whole))
        }
        // Every response is to a RESPMOD; the verifier feeds each 21 times.
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            ICAPResponseDecoder(expecting: Array(repeating: .respmod, count: 200))
        }
    }
}
