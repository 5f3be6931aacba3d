import NIOHTTP1
import Testing

@testable import Proxy

struct ResponsePlannerTests {
    private func plan(
        _ status: HTTPResponseStatus, _ headers: [(String, String)], method: HTTPMethod = .GET,
        client: HTTPVersion = .http1_1, keepAlive: Bool = true, upgrade: String? = nil
    ) -> ResponsePlan {
        let request = ForwardPlan(
            target: RequestTarget(scheme: "http", host: "e.com", port: 80, originForm: "/"),
            originHead: HTTPRequestHead(version: .http1_1, method: method, uri: "/"), requestFraming: .none,
            upgrade: upgrade,
            clientVersion: client, clientKeepAlive: keepAlive)
        return ResponsePlanner.plan(
            HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers)), for: request,
            viaName: "portcullis")
    }

    @Test func contentLengthPassesThroughAndBothSidesStayOpen() {
        let plan = self.plan(
            .ok, [("Content-Length", "10"), ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5")])
        #expect(plan.clientFraming == .contentLength(10))
        #expect(plan.keepClientAlive)
        #expect(plan.originReusable)
        #expect(plan.clientHead.headers["Keep-Alive"].isEmpty)
        #expect(plan.clientHead.headers["Via"] == ["1.1 portcullis"])
    }

    @Test func readUntilCloseBecomesChunkedForHTTP11Clients() {
        let plan = self.plan(.ok, [("Content-Type", "text/plain")])
        #expect(plan.originFraming == .untilClose)
        #expect(plan.clientFraming == .chunked)
        #expect(plan.clientHead.headers["Transfer-Encoding"] == ["chunked"])
        #expect(!plan.originReusable)
        #expect(plan.keepClientAlive)
    }

    @Test func chunkedBecomesReadUntilCloseForHTTP10Clients() {
        let plan = self.plan(.ok, [("Transfer-Encoding", "chunked")], client: .http1_0)
        #expect(plan.clientFraming == .untilClose)
        #expect(plan.clientHead.headers["Transfer-Encoding"].isEmpty)
        #expect(plan.clientHead.headers["Connection"] == ["close"])
        #expect(!plan.keepClientAlive)
    }

    @Test func http10KeepAliveClientIsToldSo() {
        let plan = self.plan(.ok, [("Content-Length", "3")], client: .http1_0)
        #expect(plan.keepClientAlive)
        #expect(plan.clientHead.headers["Connection"] == ["keep-alive"])
    }

    @Test func headAnd204And304HaveNoBodyAndNoTransferEncoding() {
        let head = self.plan(.ok, [("Content-Length", "1024"), ("Transfer-Encoding", "chunked")], method: .HEAD)
        #expect(head.clientFraming == .none)
        #expect(head.clientHead.headers["Transfer-Encoding"].isEmpty)
        #expect(self.plan(.noContent, []).clientFraming == .none)
        #expect(self.plan(.notModified, [("Content-Length", "7")]).clientHead.headers["Content-Length"] == ["7"])
        #expect(self.plan(.notModified, []).originReusable)
    }

    @Test func originAskingToCloseIsNotPooled() {
        #expect(!self.plan(.ok, [("Content-Length", "1"), ("Connection", "close")]).originReusable)
    }

    @Test func switchingProtocolsOnlyForUpgradeRequests() {
        let upgraded = self.plan(
            .switchingProtocols, [("Connection", "Upgrade"), ("Upgrade", "websocket")], upgrade: "websocket")
        #expect(upgraded.switchesProtocols)
        #expect(upgraded.clientHead.headers["Upgrade"] == ["websocket"])
        let unasked = self.plan(.switchingProtocols, [("Connection", "Upgrade"), ("Upgrade", "websocket")])
        #expect(!unasked.switchesProtocols)
    }

    @Test func anUpgradeRequestAnsweredNormallyClosesTheClient() {
        let plan = self.plan(.ok, [("Content-Length", "2")], keepAlive: false, upgrade: "websocket")
        #expect(!plan.keepClientAlive)
        #expect(plan.clientHead.headers["Connection"] == ["close"])
    }
}
