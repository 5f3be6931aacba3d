import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOTestUtils
import Testing

@testable import ICAP

/// Requests captured from c-icap-client and Squid, decoded on the server side whole and byte by
/// byte, every part checked.
struct CapturedRequestTests {
    private static let cicapClientHeaders: KeyValuePairs<String, String> = [
        "Host": "127.0.0.1", "User-Agent": "C-ICAP-Client-Library/0.5.10", "Encapsulated": "null-body=0",
    ]

    @Test(arguments: Feed.allCases)
    func optionsFromCICAPClientHasNoHeadsAndNoBody(feed: Feed) throws {
        let parts = try decodeRequests(Captured.options.clientToServer[0].text, feed: feed)
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .options, uri: "icap://127.0.0.1/echo",
                        headers: Expected.headers(Self.cicapClientHeaders)),
                    .none),
                .end,
            ])
    }

    @Test(arguments: Feed.allCases)
    func reqmodWithoutBodyIsHeadThenEnd(feed: Feed) throws {
        let parts = try decodeRequests(Captured.reqmodGet.clientToServer[1].text, feed: feed)
        let httpHead =
            "GET http://example.com/index.html HTTP/1.0\r\nDate: Thu Nov 26 21:03:35 2026\r\nUser-Agent: C-ICAP-Client/x.xx\r\n\r\n"
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .reqmod, uri: "icap://127.0.0.1/echo",
                        headers: Expected.headers([
                            "Host": "127.0.0.1", "User-Agent": "C-ICAP-Client-Library/0.5.10", "Allow": "204",
                            "Encapsulated": "req-hdr=0, null-body=110",
                        ])),
                    try Expected.heads("req-hdr=0, null-body=110", request: httpHead)),
                .end,
            ])
        guard case .head(let head, let heads) = parts.first else { return }
        #expect(head.allows204)
        #expect(head.preview == nil)
        #expect(heads.requestHeadBytes?.readableBytes == 110)
        #expect(heads.request?.method == .GET)
        #expect(heads.request?.uri == "http://example.com/index.html")
        #expect(heads.request?.version == .http1_0)
        #expect(heads.request?.headers["User-Agent"] == ["C-ICAP-Client/x.xx"])
        #expect(heads.response == nil)
    }

    @Test(arguments: Feed.allCases)
    func previewWithIeofEndsThePreviewAndTheRequest(feed: Feed) throws {
        let parts = try decodeRequests(Captured.reqmodPostSmall.clientToServer[1].text, feed: feed)
        let httpHead =
            "POST http://example.com/form HTTP/1.0\r\nLast-Modified: Thu Nov 26 21:03:44 2026\r\nContent-Length: 26\r\nContent-Length: 26\r\nUser-Agent: C-ICAP-Client/x.xx\r\n\r\n"
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .reqmod, uri: "icap://127.0.0.1/echo",
                        headers: Expected.headers([
                            "Host": "127.0.0.1", "User-Agent": "C-ICAP-Client-Library/0.5.10", "Allow": "204",
                            "Preview": "26", "Encapsulated": "req-hdr=0, req-body=154",
                        ])),
                    try Expected.heads("req-hdr=0, req-body=154", request: httpHead)),
                .body(Expected.body("name=portcullis&lang=swift")),
                .previewEnd(ieof: true),
                .end,
            ])
        guard case .head(let head, let heads) = parts.first else { return }
        #expect(head.preview == 26)
        // c-icap-client repeats Content-Length; the head keeps both, as sent.
        #expect(heads.request?.headers["Content-Length"] == ["26", "26"])
    }

    @Test(arguments: Feed.allCases)
    func respmodCarriesBothHeadsAndTheResponseBody(feed: Feed) throws {
        let parts = try decodeRequests(Captured.respmodSmall.clientToServer[1].text, feed: feed)
        let requestHead =
            "GET http://example.com/page.txt HTTP/1.0\r\nDate: Thu Nov 26 21:04:01 2026\r\nUser-Agent: C-ICAP-Client/x.xx\r\n\r\n"
        let responseHead =
            "HTTP/1.0 200 OK\r\nDate: Thu Nov 26 21:04:01 2026\r\nLast-Modified: Thu Nov 26 21:04:01 2026\r\nContent-Length: 26\r\n\r\n"
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .respmod, uri: "icap://127.0.0.1/echo",
                        headers: Expected.headers([
                            "Host": "127.0.0.1", "User-Agent": "C-ICAP-Client-Library/0.5.10", "Allow": "204",
                            "Preview": "26", "Encapsulated": "req-hdr=0, res-hdr=108, res-body=220",
                        ])),
                    try Expected.heads(
                        "req-hdr=0, res-hdr=108, res-body=220", request: requestHead, response: responseHead)),
                .body(Expected.body("name=portcullis&lang=swift")),
                .previewEnd(ieof: true),
                .end,
            ])
        guard case .head(_, let heads) = parts.first else { return }
        #expect(heads.response?.status == .ok)
        #expect(heads.response?.version == .http1_0)
        #expect(heads.response?.headers["Content-Length"] == ["26"])
    }

    @Test(arguments: Feed.allCases)
    func respmodWithoutResponseHeadHasOnlyABody(feed: Feed) throws {
        let parts = try decodeRequests(Captured.respmodNoResHdr.clientToServer[1].text, feed: feed)
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .respmod, uri: "icap://127.0.0.1/echo",
                        headers: Expected.headers([
                            "Host": "127.0.0.1", "User-Agent": "C-ICAP-Client-Library/0.5.10", "Preview": "26",
                            "Encapsulated": "res-body=0",
                        ])),
                    try Expected.heads("res-body=0")),
                .body(Expected.body("name=portcullis&lang=swift")),
                .previewEnd(ieof: true),
                .end,
            ])
    }

    @Test(arguments: Feed.allCases)
    func bodyWithoutPreviewEndsWithEndOnly(feed: Feed) throws {
        let parts = try decodeRequests(Captured.respmodNoPreview.clientToServer[1].text, feed: feed)
        try #require(parts.count == 3)
        #expect(parts[1] == .body(Expected.body("name=portcullis&lang=swift")))
        #expect(parts[2] == .end)
    }

    @Test(arguments: Feed.allCases)
    func squidOptionsWithoutEncapsulatedMeansNullBody(feed: Feed) throws {
        let parts = try decodeRequests(Captured.squidReqmod.clientToServer[0].text, feed: feed)
        #expect(
            parts == [
                .head(
                    ICAPRequestHead(
                        method: .options, uri: "icap://127.0.0.1:13441/echo",
                        headers: Expected.headers(["Host": "127.0.0.1:13441", "Allow": "206, trailers"])),
                    .none),
                .end,
            ])
    }

    @Test(arguments: Feed.allCases)
    func squidPreviewZeroWithNullBodyHasNoPreviewEnd(feed: Feed) throws {
        let parts = try decodeRequests(Captured.squidReqmod.clientToServer[1].text, feed: feed)
        try #require(parts.count == 2)
        guard case .head(let head, let heads) = parts[0] else {
            Issue.record("no head")
            return
        }
        #expect(head.preview == 0)
        #expect(head.allows204)
        #expect(head.headers.first(name: "x-client-ip") == "127.0.0.1")
        #expect(heads.encapsulated.headerValue == "req-hdr=0, null-body=110")
        #expect(heads.request?.headers["Host"] == ["127.0.0.1:18080"])
        #expect(parts[1] == .end)
    }

    @Test(arguments: Feed.allCases)
    func squidPostPreviewWithIeof(feed: Feed) throws {
        let parts = try decodeRequests(Captured.squidReqmod.clientToServer[2].text, feed: feed)
        try #require(parts.count == 4)
        #expect(parts[1] == .body(Expected.body("name=portcullis&lang=swift")))
        #expect(parts[2] == .previewEnd(ieof: true))
        #expect(parts[3] == .end)
        guard case .head(_, let heads) = parts.first else { return }
        #expect(heads.request?.method == .POST)
        #expect(heads.request?.headers["Content-Type"] == ["application/x-www-form-urlencoded"])
    }

    @Test(arguments: Feed.allCases)
    func everyCapturedClientStreamDecodesWholeAsItDoesByteByByte(feed: Feed) throws {
        for capture in Captured.all {
            // The server's answers, written as it wrote them, decide whether previews continue.
            let whole = try decodeRequests(capture.clientBytes, feed: .whole, answers: capture.statusCodes)
            let fed = try decodeRequests(capture.clientBytes, feed: feed, answers: capture.statusCodes)
            #expect(fed == whole, "\(capture.name)")
            #expect(whole.filter { if case .head = $0 { true } else { false } }.count == capture.methods.count)
        }
    }

    @Test func bodilessRequestsPassNIOsDecoderVerifier() throws {
        let pieces = [
            Captured.options.clientToServer[0], Captured.reqmodGet.clientToServer[1],
            Captured.respmodNoBody.clientToServer[1], Captured.squidReqmod.clientToServer[0],
            Captured.squidReqmod.clientToServer[1],
        ]
        let pairs = try pieces.map { piece in
            (ByteBuffer(string: piece.text), try decodeRequests(piece.text, feed: .whole))
        }
        #expect(pairs.allSatisfy { $0.1.count == 2 })
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ICAPRequestDecoder() }
    }
}
