import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import ICAP

/// A preview that ends without `ieof` continues only after the server's `100 Continue`; after a
/// final answer the next request follows. Replayed with c-icap-client's captured bytes through
/// the server pipeline, the server's answers written in between as c-icap wrote them.
struct PreviewContinuationTests {
    private static let optionsAnswer = ICAPResponseHead(status: .ok, headers: ["ISTag": "\"x\""])

    @Test(arguments: Feed.allCases)
    func continueLetsTheRestOfTheBodyThrough(feed: Feed) throws {
        let capture = Captured.reqmodPostPreviewNo204
        let channel = try serverChannel()
        defer { channel.tearDown() }
        try feed.write(capture.clientToServer[0].text, into: channel)
        #expect(try readParts(channel, as: ICAPRequestPart.self).count == 2)
        try channel.writeOutbound(ICAPResponsePart.head(Self.optionsAnswer, .none))
        try channel.writeOutbound(ICAPResponsePart.end)
        _ = try readOutboundString(channel)

        try feed.write(capture.clientToServer[1].text, into: channel)
        let preview = try readParts(channel, as: ICAPRequestPart.self)
        try #require(preview.count == 3)
        let body = Expected.largeBody
        #expect(preview[1] == .body(Expected.body(String(decoding: body.utf8.prefix(512), as: UTF8.self))))
        #expect(preview[2] == .previewEnd(ieof: false))

        try channel.writeOutbound(ICAPResponsePart.head(ICAPResponseHead(status: .continue), .none))
        try channel.writeOutbound(ICAPResponsePart.end)
        #expect(try readOutboundString(channel) == capture.serverToClient[1].text)

        try feed.write(capture.clientToServer[2].text, into: channel)
        let rest = try readParts(channel, as: ICAPRequestPart.self)
        #expect(rest == [.body(Expected.body(String(decoding: body.utf8.dropFirst(512), as: UTF8.self))), .end])
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: Feed.allCases)
    func aFinalAnswerToThePreviewEndsTheRequest(feed: Feed) throws {
        let capture = Captured.reqmodPostPreview
        let channel = try serverChannel()
        defer { channel.tearDown() }
        try feed.write(capture.clientToServer[0].text, into: channel)
        _ = try readParts(channel, as: ICAPRequestPart.self)
        try channel.writeOutbound(ICAPResponsePart.head(Self.optionsAnswer, .none))
        try channel.writeOutbound(ICAPResponsePart.end)

        try feed.write(capture.clientToServer[1].text, into: channel)
        let preview = try readParts(channel, as: ICAPRequestPart.self)
        #expect(preview.last == .previewEnd(ieof: false))
        try channel.writeOutbound(
            ICAPResponsePart.head(ICAPResponseHead(status: .noContent, headers: ["ISTag": "\"x\""]), .none))
        try channel.writeOutbound(ICAPResponsePart.end)
        _ = try readOutboundString(channel)

        // The client sends no more of that body: the next bytes are a new request.
        try feed.write(Captured.options.clientToServer[0].text, into: channel)
        let next = try readParts(channel, as: ICAPRequestPart.self)
        #expect(next.count == 2)
        guard case .head(let head, _) = next.first else { return }
        #expect(head.method == .options)
        #expect(try channel.finish().isClean)
    }

    @Test func anAnswerWrittenBeforeThePreviewEndedIsRemembered() throws {
        var parser = ICAPRequestParser(maxHeaderBytes: 1024)
        var buffer = ByteBuffer(
            string: String(decoding: Captured.reqmodPostPreview.clientToServer[1].text.utf8.prefix(400), as: UTF8.self))
        var parts: [ICAPRequestPart] = []
        while let part = try parser.next(&buffer) { parts.append(part) }
        #expect(parts.count == 2)  // the head and some preview data
        parser.responseWritten(statusCode: 204)
        buffer.writeString(
            String(decoding: Captured.reqmodPostPreview.clientToServer[1].text.utf8.dropFirst(400), as: UTF8.self))
        while let part = try parser.next(&buffer) { parts.append(part) }
        #expect(parts.last == .previewEnd(ieof: false))
        buffer.writeString(Captured.options.clientToServer[0].text)
        guard case .head(let head, _) = try parser.next(&buffer) else {
            Issue.record("the next request was not read")
            return
        }
        #expect(head.method == .options)
    }

    @Test func withoutAnAnswerTheDecoderWaitsAfterThePreview() throws {
        var parser = ICAPRequestParser(maxHeaderBytes: 4096)
        var buffer = ByteBuffer(string: Captured.reqmodPostPreviewNo204.clientToServer[1].text)
        var parts: [ICAPRequestPart] = []
        while let part = try parser.next(&buffer) { parts.append(part) }
        #expect(parts.last == .previewEnd(ieof: false))
        buffer.writeString(Captured.reqmodPostPreviewNo204.clientToServer[2].text)
        #expect(try parser.next(&buffer) == nil)  // held until the server decides
        #expect(parser.truncation(buffered: buffer.readableBytes) == nil)
        parser.responseWritten(statusCode: 100)
        var rest = ByteBuffer()
        while let part = try parser.next(&buffer) {
            if case .body(var data) = part { rest.writeBuffer(&data) } else { #expect(part == .end) }
        }
        #expect(rest.readableBytes == 2720 - 512)
    }

    @Test func aContinueForAnEarlierRequestDoesNotContinueTheCurrentOne() throws {
        // Pipelined: the OPTIONS request has not been answered when the REQMOD preview ends, so a
        // 100 written now cannot be for the REQMOD... and a final answer is the OPTIONS answer.
        var parser = ICAPRequestParser(maxHeaderBytes: 4096)
        var buffer = ByteBuffer(
            string: Captured.reqmodPostPreviewNo204.clientToServer[0].text
                + Captured.reqmodPostPreviewNo204.clientToServer[1].text)
        var parts: [ICAPRequestPart] = []
        while let part = try parser.next(&buffer) { parts.append(part) }
        #expect(parts.last == .previewEnd(ieof: false))
        parser.responseWritten(statusCode: 200)  // answers OPTIONS
        buffer.writeString(Captured.reqmodPostPreviewNo204.clientToServer[2].text)
        #expect(try parser.next(&buffer) == nil)
        parser.responseWritten(statusCode: 100)  // answers the REQMOD preview
        #expect(try parser.next(&buffer) != nil)
    }

    @Test func aClientThatDoesNotWaitForTheAnswerCannotMakeTheDecoderHoard() throws {
        var parser = ICAPRequestParser(maxHeaderBytes: 1024)
        var buffer = ByteBuffer(string: Captured.reqmodPostPreviewNo204.clientToServer[1].text)
        while try parser.next(&buffer) != nil {}
        buffer.writeString(Captured.reqmodPostPreviewNo204.clientToServer[2].text)
        #expect(throws: ICAPParseError.dataBeforeAnswer(bytes: 2220)) { try parser.next(&buffer) }
        #expect(ICAPParseError.dataBeforeAnswer(bytes: 2220).code == .dataBeforeAnswer)
    }
}
