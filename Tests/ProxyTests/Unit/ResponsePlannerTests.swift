import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// Origin heads in, the client's head out, as wire bytes.
struct ResponsePlannerTests {
    private func plan(
        _ wire: String, method: HTTPMethod = .GET, client: HTTPVersion = .http1_1, keepAlive: Bool = true,
        upgrade: String? = nil
    ) -> ResponsePlan {
        let request = ForwardPlan.fixture(method: method, upgrade: upgrade, clientVersion: client, keepAlive: keepAlive)
        var parser = OriginResponseParser()
        parser.expectResponse(requestWasHEAD: method == .HEAD)
        var buffer = ByteBuffer(string: wire)
        guard case .head(let head) = try? parser.next(&buffer) else { fatalError("not a head") }
        return ResponsePlanner.plan(head, for: request, via: ViaEntries(name: "portcullis"))
    }

    private func wire(_ plan: ResponsePlan) -> String {
        String(buffer: ResponseSerializer.encode(plan, allocator: ByteBufferAllocator()))
    }

    @Test func contentLengthPassesThroughAndBothSidesStayOpen() {
        let plan = self.plan(
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nETag: \"x\"\r\n\r\n"
        )
        #expect(plan.clientFraming == .contentLength(10))
        #expect(plan.keepClientAlive)
        #expect(plan.originReusable)
        #expect(
            self.wire(plan) == "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"x\"\r\nVia: 1.1 portcullis\r\n\r\n")
    }

    @Test func readUntilCloseBecomesChunkedForHTTP11Clients() {
        let plan = self.plan("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        #expect(plan.originFraming == .untilClose)
        #expect(plan.clientFraming == .chunked)
        #expect(!plan.originReusable)
        #expect(plan.keepClientAlive)
        #expect(
            self.wire(plan)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nVia: 1.0 portcullis\r\n\r\n"
        )
    }

    @Test func chunkedBecomesReadUntilCloseForHTTP10Clients() {
        let plan = self.plan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", client: .http1_0)
        #expect(plan.clientFraming == .untilClose)
        #expect(!plan.keepClientAlive)
        #expect(self.wire(plan) == "HTTP/1.1 200 OK\r\nConnection: close\r\nVia: 1.1 portcullis\r\n\r\n")
    }

    @Test func http10KeepAliveClientIsToldSo() {
        let plan = self.plan("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", client: .http1_0)
        #expect(plan.keepClientAlive)
        #expect(self.wire(plan).contains("\r\nConnection: keep-alive\r\n"))
    }

    @Test func headAnd204And304HaveNoBodyAndNoTransferEncoding() {
        let head = self.plan("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n", method: .HEAD)
        #expect(head.clientFraming == .none)
        #expect(self.wire(head) == "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nVia: 1.1 portcullis\r\n\r\n")
        #expect(self.plan("HTTP/1.1 204 No Content\r\n\r\n").clientFraming == .none)
        #expect(
            self.wire(self.plan("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n")).contains("Content-Length: 7")
        )
        #expect(self.plan("HTTP/1.1 304 Not Modified\r\n\r\n").originReusable)
    }

    @Test func originAskingToCloseIsNotPooled() {
        #expect(!self.plan("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n").originReusable)
        #expect(!self.plan("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").originReusable)
    }

    @Test func aMissingReasonPhraseGetsTheStandardOne() {
        #expect(
            self.wire(self.plan("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n")).hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    }

    @Test func switchingProtocolsOnlyForUpgradeRequests() {
        let upgraded = self.plan(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            upgrade: "websocket")
        #expect(upgraded.switchesProtocols)
        #expect(
            self.wire(upgraded)
                == "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nVia: 1.1 portcullis\r\n\r\n"
        )
        let unasked = self.plan("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(!unasked.switchesProtocols)
    }

    @Test func anUpgradeRequestAnsweredNormallyClosesTheClient() {
        let plan = self.plan("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", keepAlive: false, upgrade: "websocket")
        #expect(!plan.keepClientAlive)
        #expect(self.wire(plan).contains("\r\nConnection: close\r\n"))
    }

    @Test func anOriginCannotNameAwayItsContentLength() {
        let plan = self.plan(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: content-length, X-Drop\r\nX-Drop: 1\r\n\r\n")
        #expect(plan.clientFraming == .contentLength(2))
        #expect(self.wire(plan) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 portcullis\r\n\r\n")
    }

    @Test func whiteSpaceBeforeTheColonIsRemoved() {
        #expect(self.wire(self.plan("HTTP/1.1 204 No Content\r\nX-Odd : v\r\n\r\n")).contains("\r\nX-Odd: v\r\n"))
    }
}
