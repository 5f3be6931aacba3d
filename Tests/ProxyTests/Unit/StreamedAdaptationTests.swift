import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// The pure pieces of streamed ICAP adaptation: the kept input a preview is cut from, and the
/// re-framing of a response a RESPMOD service sent back.
struct StreamedAdaptationTests {
    @Test func keptInputGivesThePreviewAndWhatFollowsItAcrossBuffers() {
        var kept = KeptInput()
        for part in ["abc", "defg", "hi"] { kept.keep(ByteBuffer(string: part)) }
        #expect(kept.byteCount == 9)
        #expect(kept.prefix(5).map { String(buffer: $0) } == ["abc", "de"])
        #expect(kept.dropping(5).map { String(buffer: $0) } == ["fg", "hi"])
        #expect(kept.prefix(0).isEmpty)
        #expect(kept.dropping(0).map { String(buffer: $0) } == ["abc", "defg", "hi"])
        #expect(kept.prefix(20).map { String(buffer: $0) } == ["abc", "defg", "hi"])
        #expect(kept.dropping(20).isEmpty)
        #expect(kept.takeAll().count == 3)
        #expect(kept.byteCount == 0)
    }

    private static func response(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    @Test func anAdaptedBodyIsReframedAsChunked() throws {
        let head = try AdaptedResponseHead.make(
            Self.response(.ok, ["Content-Type": "text/html", "Content-Length": "1234"]), hasBody: true,
            requestWasHEAD: false)
        #expect(head.status == 200)
        #expect(head.fields.responseFraming(status: 200, requestWasHEAD: false) == .chunked)
        #expect(head.fields.contentLength == nil)
        #expect(head.contentType.map { String(buffer: $0) } == "text/html")
    }

    @Test func anAdaptedResponseWithoutABodyHasLengthZeroButHEADKeepsItsLength() throws {
        let empty = try AdaptedResponseHead.make(
            Self.response(.forbidden, ["Transfer-Encoding": "chunked"]), hasBody: false, requestWasHEAD: false)
        #expect(empty.fields.responseFraming(status: 403, requestWasHEAD: false) == .contentLength(0))
        let head = try AdaptedResponseHead.make(
            Self.response(.ok, ["Content-Length": "1234"]), hasBody: false, requestWasHEAD: true)
        #expect(head.fields.contentLength == 1234)
        #expect(head.fields.responseFraming(status: 200, requestWasHEAD: true) == .none)
    }

    @Test func anInformationalAdaptedResponseIsRefused() {
        #expect(throws: AdaptedResponseHead.Unusable.self) {
            try AdaptedResponseHead.make(Self.response(.continue, [:]), hasBody: false, requestWasHEAD: false)
        }
    }
}
