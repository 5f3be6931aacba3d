import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

struct RequestPlannerTests {
    private var planner: RequestPlanner {
        var configuration = ProxyConfiguration()
        configuration.connectPorts = [443]
        return RequestPlanner(configuration: configuration)
    }

    private func head(
        _ method: HTTPMethod = .GET, _ uri: String, _ headers: [(String, String)] = [], version: HTTPVersion = .http1_1
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    private func forwarded(_ disposition: RequestDisposition) throws -> ForwardPlan {
        guard case .forward(let plan) = disposition else {
            Issue.record("expected a forward plan, got \(disposition)")
            throw PlanMismatch()
        }
        return plan
    }

    private func rejection(_ disposition: RequestDisposition) -> LocalPage? {
        if case .reject(let page, _, _) = disposition { return page }
        return nil
    }

    struct PlanMismatch: Error {}

    /// The request head the origin gets, as wire bytes.
    private func wire(_ plan: ForwardPlan) -> String {
        var buffer = ByteBuffer()
        OriginRequestSerializer.head(plan, into: &buffer)
        return String(buffer: buffer)
    }

    /// The values of `name` in the origin's head.
    private func field(_ plan: ForwardPlan, _ name: String) -> [String] {
        self.wire(plan).components(separatedBy: "\r\n").dropFirst().compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }

    private func names(_ plan: ForwardPlan) -> [String] {
        self.wire(plan).components(separatedBy: "\r\n").dropFirst().compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() }
        }
    }

    @Test func absoluteFormBecomesOriginFormWithHostFromTheURL() throws {
        let plan = try self.forwarded(
            self.planner.plan(
                self.head(.GET, "http://example.com:8080/p?q", [("Host", "wrong.example")]), clientIP: "10.0.0.9"))
        #expect(
            self.wire(plan)
                == "GET /p?q HTTP/1.1\r\nHost: example.com:8080\r\nVia: 1.1 portcullis\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"
        )
        #expect(plan.clientKeepAlive)
        #expect(plan.requestFraming == .none)
    }

    @Test func hopByHopFieldsAndThoseNamedInConnectionAreRemoved() throws {
        let plan = try self.forwarded(
            self.planner.plan(
                self.head(
                    .GET, "http://example.com/",
                    [
                        ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "300"), ("TE", "trailers"),
                        ("Proxy-Connection", "keep-alive"), ("Proxy-Authorization", "Basic eA=="), ("Upgrade", "h2c"),
                        ("X-End-To-End", "kept"),
                    ]),
                clientIP: "::1"))
        #expect(self.names(plan).sorted() == ["host", "via", "x-end-to-end", "x-forwarded-for"])
    }

    @Test func viaAndForwardedForAppendToExistingValues() throws {
        let plan = try self.forwarded(
            self.planner.plan(
                self.head(
                    .GET, "http://example.com/", [("Via", "1.1 upstream"), ("X-Forwarded-For", "192.0.2.1")],
                    version: .http1_0),
                clientIP: "10.0.0.1"))
        #expect(self.field(plan, "Via") == ["1.1 upstream, 1.0 portcullis"])
        #expect(self.field(plan, "X-Forwarded-For") == ["192.0.2.1, 10.0.0.1"])
        #expect(!plan.clientKeepAlive)
    }

    @Test func forwardedForModes() throws {
        var configuration = ProxyConfiguration()
        configuration.forwardedFor = .transparent
        let transparent = try self.forwarded(
            RequestPlanner(configuration: configuration).plan(
                self.head(.GET, "http://e.com/", [("X-Forwarded-For", "192.0.2.1")]), clientIP: "10.0.0.1"))
        #expect(self.field(transparent, "X-Forwarded-For") == ["192.0.2.1"])
        configuration.forwardedFor = .delete
        let deleted = try self.forwarded(
            RequestPlanner(configuration: configuration).plan(
                self.head(.GET, "http://e.com/", [("X-Forwarded-For", "192.0.2.1")]), clientIP: "10.0.0.1"))
        #expect(self.field(deleted, "X-Forwarded-For").isEmpty)
    }

    @Test func bodyFramingIsKeptAndSmugglingRefused() throws {
        let chunked = try self.forwarded(
            self.planner.plan(
                self.head(.POST, "http://e.com/", [("Transfer-Encoding", "chunked")]), clientIP: "1.1.1.1"))
        #expect(chunked.requestFraming == .chunked)
        #expect(self.field(chunked, "Transfer-Encoding") == ["chunked"])
        let sized = try self.forwarded(
            self.planner.plan(
                self.head(.POST, "http://e.com/", [("Content-Length", "5"), ("Content-Length", "5")]),
                clientIP: "1.1.1.1"))
        #expect(sized.requestFraming == .contentLength(5))
        let refused: [[(String, String)]] = [
            [("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
            [("Content-Length", "5"), ("Content-Length", "6")],
            [("Content-Length", "-1")],
            [("Content-Length", "5x")],
            [("Transfer-Encoding", "chunked, gzip")],
            [("Host", "a"), ("Host", "b")],
        ]
        for headers in refused {
            #expect(
                self.rejection(self.planner.plan(self.head(.POST, "http://e.com/", headers), clientIP: "1.1.1.1"))
                    == .badRequest, "\(headers)")
        }
    }

    @Test func schemesOtherThanHTTPGet501AndRelativeTargets400() {
        #expect(
            self.rejection(self.planner.plan(self.head(.GET, "ftp://e.com/"), clientIP: "1.1.1.1")) == .notImplemented)
        #expect(
            self.rejection(self.planner.plan(self.head(.GET, "https://e.com/"), clientIP: "1.1.1.1")) == .notImplemented
        )
        #expect(self.rejection(self.planner.plan(self.head(.GET, "/index.html"), clientIP: "1.1.1.1")) == .badRequest)
        #expect(
            self.rejection(self.planner.plan(self.head(.RAW(value: "PRI"), "*"), clientIP: "1.1.1.1"))
                == .methodNotAllowed)
    }

    @Test func connectNeedsAnAllowedPort() {
        if case .tunnel(let target) = self.planner.plan(self.head(.CONNECT, "example.com:443"), clientIP: "1.1.1.1") {
            #expect(target.port == 443)
        } else {
            Issue.record("CONNECT to 443 was not tunnelled")
        }
        #expect(
            self.rejection(self.planner.plan(self.head(.CONNECT, "example.com:25"), clientIP: "1.1.1.1"))
                == .connectPortDenied)
        #expect(
            self.rejection(self.planner.plan(self.head(.CONNECT, "example.com"), clientIP: "1.1.1.1")) == .badRequest)
    }

    @Test func maxForwardsIsDecrementedOrAnsweredAtZero() throws {
        let plan = try self.forwarded(
            self.planner.plan(self.head(.OPTIONS, "http://e.com/", [("Max-Forwards", "3")]), clientIP: "1.1.1.1"))
        #expect(self.field(plan, "Max-Forwards") == ["2"])
        guard
            case .answer(let head, let body) = self.planner.plan(
                self.head(.TRACE, "http://e.com/", [("Max-Forwards", "0"), ("Cookie", "secret"), ("X-A", "b")]),
                clientIP: "1.1.1.1")
        else {
            Issue.record("TRACE with Max-Forwards: 0 was not answered locally")
            return
        }
        #expect(head.status == .ok)
        #expect(String(buffer: body) == "TRACE http://e.com/ HTTP/1.1\r\nMax-Forwards: 0\r\nX-A: b\r\n\r\n")
        #expect(
            self.rejection(
                self.planner.plan(self.head(.OPTIONS, "http://e.com/", [("Max-Forwards", "x")]), clientIP: "1"))
                == .badRequest)
    }

    @Test func upgradeRequestsKeepTheirUpgradeFields() throws {
        let plan = try self.forwarded(
            self.planner.plan(
                self.head(.GET, "http://e.com/ws", [("Connection", "Upgrade"), ("Upgrade", "websocket")]),
                clientIP: "1.1.1.1"))
        #expect(plan.upgrade == "websocket")
        #expect(self.field(plan, "Upgrade") == ["websocket"])
        #expect(self.field(plan, "Connection") == ["Upgrade"])
        #expect(!plan.clientKeepAlive)
    }

    @Test func bodyLimitRefusesDeclaredLengths() {
        var configuration = ProxyConfiguration()
        configuration.maxRequestBodyBytes = 10
        let planner = RequestPlanner(configuration: configuration)
        #expect(
            self.rejection(planner.plan(self.head(.POST, "http://e.com/", [("Content-Length", "11")]), clientIP: "1"))
                == .payloadTooLarge)
    }

    @Test func connectionCannotNameAwayTheFraming() throws {
        // A smuggling attempt: if Content-Length were dropped as "named in Connection", the
        // origin would read the body as a second request the proxy never saw.
        let plan = try self.forwarded(
            self.planner.plan(
                self.head(
                    .POST, "http://e.com/", [("Content-Length", "5"), ("Connection", "content-length, host, x-drop")]),
                clientIP: "1.1.1.1"))
        #expect(plan.requestFraming == .contentLength(5))
        #expect(self.field(plan, "Content-Length") == ["5"])
        #expect(self.field(plan, "Host") == ["e.com"])
        #expect(self.field(plan, "X-Drop").isEmpty)
    }

    @Test func transferCodingsOtherThanChunkedAreRefused() {
        #expect(
            self.rejection(
                self.planner.plan(
                    self.head(.POST, "http://e.com/", [("Transfer-Encoding", "gzip, chunked")]), clientIP: "1"))
                == .badRequest)
    }
}
