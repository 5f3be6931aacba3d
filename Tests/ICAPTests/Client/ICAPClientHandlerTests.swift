import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ICAP

#if canImport(Glibc)
    import Glibc
#endif

/// `ICAPClientHandler` with the real codec on an `EmbeddedChannel`: exact bytes out, bytes as
/// c-icap writes them in, virtual time for the read deadline.
final class ICAPClientHandlerTests {
    private let loop = EmbeddedEventLoop()
    private let channel: EmbeddedChannel
    private let handler = ICAPClientHandler(readTimeout: .seconds(5))
    private let result = ResultBox()

    final class ResultBox {
        var value: Result<ICAPClientResponse, ICAPClientError>?
        var calls = 0
    }

    init() throws {
        self.channel = EmbeddedChannel(loop: self.loop)
        try self.channel.pipeline.syncOperations.addICAPClientHandlers()
        try self.channel.pipeline.syncOperations.addHandler(self.handler)
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1344)).wait()
    }

    deinit { self.channel.tearDown() }

    private func run(_ request: ICAPClientRequest) {
        let box = self.result
        self.handler.run(request) { result in
            box.value = result
            box.calls += 1
        }
    }

    private func written() throws -> String {
        var text = ""
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    private static func reqmod(
        _ http: HTTPRequestHead, body: Encapsulated.BodySection = .nullBody, preview: Int? = nil
    )
        throws -> ICAPRequestHead
    {
        var headers: ICAPHeaders = ["Host": "127.0.0.1:1344", "Allow": "204"]
        if let preview { headers.add(name: "Preview", value: String(preview)) }
        return ICAPRequestHead(method: .reqmod, uri: "icap://127.0.0.1/echo", headers: headers)
    }

    private static let get = HTTPRequestHead(
        version: .http1_1, method: .GET, uri: "http://example.com/", headers: ["Host": "example.com"])

    private static let c204 =
        "ICAP/1.0 204 Unmodified\r\nServer: C-ICAP/0.5.10\r\nConnection: keep-alive\r\nISTag: \"CI0001-XXXXXXXXX\"\r\n\r\n"

    @Test func bodilessRequestOnTheWireAnd204() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        #expect(
            try self.written()
                == "REQMOD icap://127.0.0.1/echo ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nAllow: 204\r\n"
                + "Encapsulated: req-hdr=0, null-body=55\r\n\r\n"
                + "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(self.result.value == nil)
        try self.channel.writeInbound(ByteBuffer(string: Self.c204))
        guard case .success(let response) = self.result.value else {
            Issue.record("no answer: \(String(describing: self.result.value))")
            return
        }
        #expect(response.head.statusCode == 204)
        #expect(response.head.istag == "\"CI0001-XXXXXXXXX\"")
        #expect(self.handler.isReusable)
        // The connection takes the next exchange.
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        try self.channel.writeInbound(ByteBuffer(string: Self.c204))
        #expect(self.result.calls == 2)
        #expect(try self.channel.finish().isClean)
    }

    @Test func previewThenContinueThenRestThen200WithTheModifiedRequest() throws {
        let post = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "http://example.com/up",
            headers: ["Host": "example.com", "Content-Length": "8"])
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(post, preview: 4),
                heads: try ICAPEncapsulatedHeads(request: post, body: .requestBody),
                body: ByteBuffer(string: "abcdefgh")))
        let head = try self.written()
        #expect(head.hasSuffix("Content-Length: 8\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
        #expect(head.contains("Preview: 4\r\n"))
        try self.channel.writeInbound(ByteBuffer(string: "ICAP/1.0 100 Continue\r\n\r\n"))
        #expect(try self.written() == "4\r\nefgh\r\n0\r\n\r\n")
        let modified = "GET http://example.com/other HTTP/1.1\r\nHost: example.com\r\n\r\n"
        try self.channel.writeInbound(
            ByteBuffer(
                string:
                    "ICAP/1.0 200 OK\r\nISTag: \"t\"\r\nEncapsulated: req-hdr=0, null-body=\(modified.utf8.count)\r\n\r\n"
                    + modified))
        guard case .success(let response) = self.result.value else {
            Issue.record("no answer: \(String(describing: self.result.value))")
            return
        }
        #expect(response.heads.request?.uri == "http://example.com/other")
        #expect(try self.channel.finish().isClean)
    }

    @Test func requestSatisfactionBodyIsGathered() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        let http = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n"
        try self.channel.writeInbound(
            ByteBuffer(
                string:
                    "ICAP/1.0 200 OK\r\nISTag: \"t\"\r\nEncapsulated: res-hdr=0, res-body=\(http.utf8.count)\r\n\r\n"
                    + http + "7\r\nblocked\r\n0\r\n\r\n"))
        guard case .success(let response) = self.result.value else {
            Issue.record("no answer: \(String(describing: self.result.value))")
            return
        }
        #expect(response.heads.response?.status == .forbidden)
        #expect(String(buffer: response.body) == "blocked")
    }

    @Test func silenceFailsAtTheReadDeadlineAndCloses() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        self.loop.advanceTime(by: .seconds(4))
        #expect(self.result.value == nil)
        try self.channel.writeInbound(ByteBuffer(string: "ICAP/1.0 204"))  // a read moves the deadline
        self.loop.advanceTime(by: .seconds(4))
        #expect(self.result.value == nil)
        self.loop.advanceTime(by: .seconds(2))
        #expect(self.result.value.map { if case .failure(.timeout) = $0 { true } else { false } } == true)
        #expect(self.result.calls == 1)
        #expect(!self.channel.isActive)
    }

    @Test func malformedAnswerFails() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        _ = try? self.channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"))
        guard case .failure(let error) = self.result.value else {
            Issue.record("no failure: \(String(describing: self.result.value))")
            return
        }
        #expect(error.label == "malformed")
        #expect(!self.handler.isReusable)
    }

    @Test func aResetIsAClosedConnectionNotAMalformedAnswer() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        self.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        #expect(self.result.value.map { if case .failure(.closed) = $0 { true } else { false } } == true)
        #expect(self.result.calls == 1)
    }

    @Test func closeMidAnswerFails() throws {
        self.run(
            ICAPClientRequest(
                head: try Self.reqmod(Self.get), heads: try ICAPEncapsulatedHeads(request: Self.get, body: .nullBody)))
        _ = try self.written()
        try self.channel.writeInbound(ByteBuffer(string: "ICAP/1.0 200 OK\r\nISTag: \"t\"\r\n"))
        self.channel.pipeline.fireChannelInactive()
        guard case .failure(let error) = self.result.value else {
            Issue.record("no failure: \(String(describing: self.result.value))")
            return
        }
        #expect(error == .closed || error.label == "malformed")
        #expect(self.result.calls == 1)
    }
}
