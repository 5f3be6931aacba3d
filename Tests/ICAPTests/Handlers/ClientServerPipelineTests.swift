import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ICAP

/// A client pipeline and a server pipeline joined back to back: every part written on one side is
/// read, equal, on the other, with the preview handshake in between.
final class ClientServerPipelineTests {
    private let client: EmbeddedChannel
    private let server: EmbeddedChannel

    init() throws {
        self.client = try clientChannel()
        self.server = try serverChannel()
    }

    deinit {
        self.client.tearDown()
        self.server.tearDown()
    }

    /// Moves what one side wrote to the other, a byte at a time if asked.
    private func deliver(from sender: EmbeddedChannel, to receiver: EmbeddedChannel, feed: Feed) throws {
        while let buffer = try sender.readOutbound(as: ByteBuffer.self) {
            try feed.write(String(buffer: buffer), into: receiver)
        }
    }

    private func clientSends(_ parts: [ICAPRequestPart], feed: Feed) throws -> [ICAPRequestPart] {
        for part in parts { try self.client.writeOutbound(part) }
        try self.deliver(from: self.client, to: self.server, feed: feed)
        return try readParts(self.server, as: ICAPRequestPart.self)
    }

    private func serverSends(_ parts: [ICAPResponsePart], feed: Feed) throws -> [ICAPResponsePart] {
        for part in parts { try self.server.writeOutbound(part) }
        try self.deliver(from: self.server, to: self.client, feed: feed)
        return try readParts(self.client, as: ICAPResponsePart.self)
    }

    @Test(arguments: Feed.allCases)
    func optionsThenPreviewContinueThenRequestSatisfaction(feed: Feed) throws {
        // OPTIONS: the client's decoder learns from the write that an opt-body may come.
        let options = ICAPRequestPart.head(ICAPRequestHead(method: .options, uri: "icap://h/policy"), .none)
        // Decoded heads keep every header as received, the encoder's Encapsulated among them.
        let received = ICAPRequestPart.head(
            ICAPRequestHead(method: .options, uri: "icap://h/policy", headers: ["Encapsulated": "null-body=0"]), .none)
        #expect(try self.clientSends([options, .end], feed: feed) == [received, .end])
        let service = ICAPOptions(
            methods: [.reqmod], istag: "\"p1\"", service: "policy", maxConnections: 10, optionsTTL: 60, preview: 4,
            transferPreview: ["*"], allows204: true)
        let answer = try self.serverSends([.head(service.responseHead, .none), .end], feed: feed)
        guard case .head(let optionsHead, _) = answer.first else {
            Issue.record("no OPTIONS answer")
            return
        }
        #expect(try ICAPOptions(parsing: optionsHead) == service)

        // REQMOD with a preview of 4 bytes; the server wants the rest.
        let request = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "http://e.com/upload",
            headers: ["Host": "e.com", "Content-Length": "8"])
        let head = ICAPRequestHead(
            method: .reqmod, uri: "icap://h/policy", headers: ["Host": "h", "Preview": "4", "Allow": "204"])
        let heads = try ICAPEncapsulatedHeads(request: request, body: .requestBody)
        let preview = try self.clientSends(
            [.head(head, heads), .body(ByteBuffer(string: "abcd")), .previewEnd(ieof: false)], feed: feed)
        #expect(preview.count == 3)
        guard case .head(let receivedHead, let receivedHeads) = preview.first else { return }
        #expect(receivedHeads.request == request)
        #expect(
            receivedHeads.encapsulated.headerValue == "req-hdr=0, req-body=\(heads.requestHeadBytes!.readableBytes)")
        #expect(receivedHead.headers.first(name: "Encapsulated") == receivedHeads.encapsulated.headerValue)
        #expect(Array(preview.dropFirst()) == [.body(ByteBuffer(string: "abcd")), .previewEnd(ieof: false)])

        let interim = try self.serverSends([.head(ICAPResponseHead(status: .continue), .none), .end], feed: feed)
        #expect(interim == [.head(ICAPResponseHead(status: .continue), .none), .end])

        #expect(
            try self.clientSends([.body(ByteBuffer(string: "efgh")), .end], feed: feed) == [
                .body(ByteBuffer(string: "efgh")), .end,
            ])

        // Request satisfaction: the answer to REQMOD is a whole HTTP response, a block page.
        let page = HTTPResponseHead(
            version: .http1_1, status: .forbidden, headers: ["Content-Type": "text/html", "Content-Length": "7"])
        let blocked = try ICAPEncapsulatedHeads(response: page, body: .responseBody)
        let final = ICAPResponseHead(status: .ok, headers: ["ISTag": "\"p1\""])
        let response = try self.serverSends(
            [.head(final, blocked), .body(ByteBuffer(string: "blocked")), .end], feed: feed)
        try #require(response.count == 3)
        guard case .head(let finalHead, let finalHeads) = response[0] else { return }
        #expect(finalHead.istag == "\"p1\"")
        #expect(finalHeads.response == page)
        #expect(finalHeads.request == nil)
        #expect(Array(response.dropFirst()) == [.body(ByteBuffer(string: "blocked")), .end])

        #expect(try self.client.finish().isClean)
        #expect(try self.server.finish().isClean)
    }

    @Test(arguments: Feed.allCases)
    func aPreviewAnsweredWith204EndsThereOnBothSides(feed: Feed) throws {
        let response = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "1000"])
        let head = ICAPRequestHead(method: .respmod, uri: "icap://h/av", headers: ["Preview": "3"])
        let heads = try ICAPEncapsulatedHeads(
            request: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/f"), response: response,
            body: .responseBody)
        let preview = try self.clientSends(
            [.head(head, heads), .body(ByteBuffer(string: "MZ\u{0}")), .previewEnd(ieof: false)], feed: feed)
        #expect(preview.last == .previewEnd(ieof: false))
        let unmodified = ICAPResponseHead(status: .noContent, headers: ["ISTag": "\"av-9\""])
        var received = unmodified
        received.headers.add(name: "Encapsulated", value: "null-body=0")
        #expect(try self.serverSends([.head(unmodified, .none), .end], feed: feed) == [.head(received, .none), .end])

        // Both sides go straight on to the next request.
        let options = ICAPRequestHead(method: .options, uri: "icap://h/av")
        var receivedOptions = options
        receivedOptions.headers.add(name: "Encapsulated", value: "null-body=0")
        #expect(
            try self.clientSends([.head(options, .none), .end], feed: feed) == [.head(receivedOptions, .none), .end])
        #expect(try self.client.finish().isClean)
        #expect(try self.server.finish().isClean)
    }

    @Test func partsFitInAPipelinesInlineStorage() {
        // NIOAny holds 24 bytes inline; larger values would be boxed on every body part.
        #expect(MemoryLayout<ICAPRequestPart>.size <= 24)
        #expect(MemoryLayout<ICAPResponsePart>.size <= 24)
    }
}
