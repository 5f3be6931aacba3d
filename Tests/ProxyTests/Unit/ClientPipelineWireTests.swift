import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Policy
import TestSupport
import Testing

@testable import Proxy

/// The client pipeline (the exchange handler with its request parser and timeouts) on an `EmbeddedChannel`:
/// real request bytes in, exact response bytes out, no sockets and no clock but the test's.
final class EmbeddedClientConnection {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    /// The origin connections the exchange leases before it would open one.
    let pool: OriginPool
    private let threadPool = NIOThreadPool(numberOfThreads: 1)
    /// The origin connections made by `pooledOrigin`, taken down with the client's.
    private var origins: [EmbeddedChannel] = []

    init(client: String = "127.0.0.1", _ configure: (inout ProxyConfiguration) -> Void = { _ in }) throws {
        var configuration = ProxyConfiguration()
        configuration.accessLog = .off
        configure(&configuration)
        let store = try PolicyStore.inMemory(pagesDirectory: RunningProxy.pagesDirectory)
        let environment = ProxyEnvironment(
            configuration: configuration,
            planner: RequestPlanner(configuration: configuration),
            connector: OriginConnector(
                resolver: OriginResolver(threadPool: self.threadPool, timeout: .seconds(1)),
                destinationGuard: DestinationGuard(deniedNetworks: [], listeners: []), connectTimeout: .seconds(1)),
            policies: LoopPolicies(group: self.loop, initial: try SnapshotCompiler.compile(store)),
            pools: OriginPools(group: self.loop, maxIdlePerKey: 1, idleTimeout: .seconds(1)),
            accessLogs: AccessLogBuffers(group: self.loop, writer: nil), icapServices: nil)
        self.pool = environment.pools.pool(for: self.loop)
        self.channel = EmbeddedChannel(loop: self.loop)
        let address = try SocketAddress(ipAddress: client, port: 40_000)
        self.channel.remoteAddress = address
        try ProxyServer.configureClientPipeline(
            channel: self.channel, environment: environment, logger: Logger(label: "test"))
        try self.channel.connect(to: address).wait()
    }

    func send(_ text: String) throws {
        try self.channel.writeInbound(ByteBuffer(string: text))
    }

    func send(bytes: [UInt8]) throws {
        try self.channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// Everything written to the client so far, as bytes.
    func receivedBytes() throws -> [UInt8] {
        var all: [UInt8] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            all += buffer.readableBytesView
        }
        return all
    }

    func sendByteByByte(_ text: String) throws {
        for byte in text.utf8 {
            try self.channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
    }

    /// Everything written to the client so far.
    func received() throws -> String {
        var all = ""
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            all += String(buffer: buffer)
        }
        return all
    }

    var isOpen: Bool { self.channel.isActive }

    /// An origin connection to `host`:`port` on an `EmbeddedChannel`, put in the pool as if a
    /// request had used it: the next request to that origin leases it, no socket involved.
    func pooledOrigin(host: String, port: Int) throws -> (EmbeddedChannel, OriginConnectionHandler) {
        let handler = OriginConnectionHandler(readTimeout: .seconds(30))
        let origin = EmbeddedChannel(handler: handler, loop: self.loop)
        self.origins.append(origin)
        try origin.connect(to: SocketAddress(ipAddress: "192.0.2.80", port: port)).wait()
        self.pool.release(origin, handler: handler, key: OriginPool.Key(host: host, port: port))
        return (origin, handler)
    }

    deinit {
        self.channel.tearDown()
        for origin in self.origins { origin.tearDown() }
        try? self.threadPool.syncShutdownGracefully()
    }
}

struct ClientPipelineWireTests {
    /// The status line and the fixed headers of a local page, in wire order.
    private func expectPage(_ answer: String, status: String, code: String, closes: Bool) {
        #expect(
            answer.hasPrefix("HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "),
            "\(answer.prefix(80))")
        #expect(
            answer.contains("\r\nCache-Control: no-store\r\nX-Portcullis-Error: \(code)\r\nVia: 1.1 portcullis\r\n"))
        #expect(answer.contains("\r\nConnection: close\r\n") == closes)
        #expect(answer.contains("</html>"))
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET http://e.com/ HTTP/1.1\r\nHost e.com\r\n\r\n",
        "POST http://e.com/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST http://e.com/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "GET /relative HTTP/1.1\r\nHost: e.com\r\n\r\n",
    ])
    func malformedRequestsGet400AndClose(request: String) throws {
        for byteByByte in [false, true] {
            let connection = try EmbeddedClientConnection()
            if byteByByte { try connection.sendByteByByte(request) } else { try connection.send(request) }
            self.expectPage(try connection.received(), status: "400 Bad Request", code: "bad_request", closes: true)
            #expect(!connection.isOpen)
        }
    }

    @Test func oversizeHeadGets431WholeAndByteByByte() throws {
        let request = "GET http://e.com/ HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        for byteByByte in [false, true] {
            let connection = try EmbeddedClientConnection { $0.maxHeaderBytes = 1024 }
            if byteByByte { try connection.sendByteByByte(request) } else { try connection.send(request) }
            self.expectPage(
                try connection.received(), status: "431 Request Header Fields Too Large", code: "headers_too_large",
                closes: true)
            #expect(!connection.isOpen)
        }
    }

    @Test func headJustUnderTheLimitIsAccepted() throws {
        let connection = try EmbeddedClientConnection { $0.maxHeaderBytes = 1024 }
        let base = "GET ftp://e.com/ HTTP/1.1\r\nX-Pad: \r\n\r\n"
        let request = base.replacingOccurrences(
            of: "X-Pad: ", with: "X-Pad: " + String(repeating: "b", count: 1024 - base.utf8.count))
        #expect(request.utf8.count == 1024)
        try connection.send(request)
        #expect(try connection.received().hasPrefix("HTTP/1.1 501 Not Implemented\r\n"))
    }

    @Test func unsupportedSchemeGets501AndTheConnectionStaysOpen() throws {
        let connection = try EmbeddedClientConnection()
        try connection.send("GET ftp://e.com/<x> HTTP/1.1\r\nHost: e.com\r\n\r\n")
        let answer = try connection.received()
        self.expectPage(answer, status: "501 Not Implemented", code: "unsupported_scheme", closes: false)
        #expect(answer.contains("ftp://e.com/&lt;x&gt;"))
        #expect(connection.isOpen)
        // The connection is reusable: a second request is answered too.
        try connection.send("GET gopher://e.com/ HTTP/1.1\r\n\r\n")
        #expect(try connection.received().hasPrefix("HTTP/1.1 501 Not Implemented\r\n"))
    }

    @Test func connectToAForbiddenPortGets403() throws {
        let connection = try EmbeddedClientConnection()
        try connection.send("CONNECT mail.example.com:25 HTTP/1.1\r\nHost: mail.example.com:25\r\n\r\n")
        self.expectPage(try connection.received(), status: "403 Forbidden", code: "connect_port_denied", closes: true)
    }

    @Test func clientOutsideAllowedNetworksGets403() throws {
        let connection = try EmbeddedClientConnection(client: "203.0.113.5")
        try connection.send("GET http://e.com/ HTTP/1.1\r\nHost: e.com\r\n\r\n")
        let answer = try connection.received()
        self.expectPage(answer, status: "403 Forbidden", code: "client_denied", closes: true)
        #expect(answer.contains("203.0.113.5"))
        #expect(!connection.isOpen)
    }

    @Test func optionsWithMaxForwardsZeroIsAnsweredExactly() throws {
        let connection = try EmbeddedClientConnection()
        try connection.send("OPTIONS http://e.com/ HTTP/1.1\r\nHost: e.com\r\nMax-Forwards: 0\r\n\r\n")
        #expect(
            try connection.received()
                == "HTTP/1.1 200 OK\r\nVia: 1.1 portcullis\r\nAllow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT\r\nContent-Length: 0\r\n\r\n"
        )
        #expect(connection.isOpen)
    }

    /// TRACE answered by the proxy echoes the field lines byte for byte (a value in obs-text
    /// included), less the credentials.
    @Test func traceWithMaxForwardsZeroEchoesTheFieldBytes() throws {
        let connection = try EmbeddedClientConnection()
        let request: [UInt8] =
            Array("TRACE http://e.com/t HTTP/1.1\r\nHost: e.com\r\nX-Name: caf".utf8) + [0xE9]
            + Array("\r\nCookie: secret=1\r\nMax-Forwards: 0\r\n\r\n".utf8)
        try connection.send(bytes: request)
        let echo: [UInt8] =
            Array("TRACE http://e.com/t HTTP/1.1\r\nHost: e.com\r\nX-Name: caf".utf8) + [0xE9]
            + Array("\r\nMax-Forwards: 0\r\n\r\n".utf8)
        let head = Array(
            "HTTP/1.1 200 OK\r\nVia: 1.1 portcullis\r\nContent-Type: message/http\r\nContent-Length: \(echo.count)\r\n\r\n"
                .utf8)
        #expect(try connection.receivedBytes() == head + echo)
    }

    @Test func slowHeadGets408AfterTheHeaderTimeout() throws {
        let connection = try EmbeddedClientConnection { $0.headerTimeout = .seconds(5) }
        try connection.send("GET http://e.com/ HTTP/1.1\r\n")
        connection.loop.advanceTime(by: .seconds(4))
        #expect(try connection.received().isEmpty)
        connection.loop.advanceTime(by: .seconds(2))
        self.expectPage(try connection.received(), status: "408 Request Timeout", code: "request_timeout", closes: true)
        #expect(!connection.isOpen)
    }

    @Test func idleConnectionIsClosedSilently() throws {
        let connection = try EmbeddedClientConnection { $0.idleTimeout = .seconds(10) }
        connection.loop.advanceTime(by: .seconds(9))
        #expect(connection.isOpen)
        connection.loop.advanceTime(by: .seconds(2))
        #expect(!connection.isOpen)
        #expect(try connection.received().isEmpty)
    }

    @Test func keepAliveRequestsRestartTheIdleTimer() throws {
        let connection = try EmbeddedClientConnection { $0.idleTimeout = .seconds(10) }
        connection.loop.advanceTime(by: .seconds(8))
        try connection.send("GET ftp://e.com/ HTTP/1.1\r\n\r\n")
        _ = try connection.received()
        connection.loop.advanceTime(by: .seconds(8))
        #expect(connection.isOpen)
        connection.loop.advanceTime(by: .seconds(3))
        #expect(!connection.isOpen)
    }

    @Test func emptyLinesAreNoHeadAndTheIdleTimeoutStillCloses() throws {
        let connection = try EmbeddedClientConnection {
            $0.maxHeaderBytes = 20
            $0.idleTimeout = .seconds(10)
            $0.headerTimeout = .seconds(5)
        }
        // Line breaks alone, more of them than the head limit: no head has begun (no 431, no
        // header timeout), and the connection is idle.
        for _ in 0..<5 {
            try connection.send("\r\n\r\n\r\n\r\n\r\n\r\n")
            connection.loop.advanceTime(by: .seconds(1))
        }
        #expect(connection.isOpen)
        connection.loop.advanceTime(by: .seconds(6))
        #expect(!connection.isOpen)
        #expect(try connection.received().isEmpty)
    }

    @Test func aHeadAfterEmptyLinesIsCountedFromItsFirstByte() throws {
        let connection = try EmbeddedClientConnection { $0.maxHeaderBytes = 40 }
        // A 33-byte head behind 40 bytes of line breaks: under the limit of 40.
        try connection.send(String(repeating: "\r\n", count: 20) + "GET ftp://e.com/ HTTP/1.1\r\n\r\n")
        self.expectPage(
            try connection.received(), status: "501 Not Implemented", code: "unsupported_scheme", closes: false)
    }

    @Test func aHeadBegunBehindAnAnsweredRequestHasTheHeaderTimeout() throws {
        let connection = try EmbeddedClientConnection {
            $0.idleTimeout = .seconds(60)
            $0.headerTimeout = .seconds(5)
        }
        // The first request is answered at once; the second has begun in the same read.
        try connection.send("GET ftp://e.com/ HTTP/1.1\r\n\r\nGET http://e.com/ HTTP/1.1\r\nHo")
        self.expectPage(
            try connection.received(), status: "501 Not Implemented", code: "unsupported_scheme", closes: false)
        connection.loop.advanceTime(by: .seconds(6))
        self.expectPage(try connection.received(), status: "408 Request Timeout", code: "request_timeout", closes: true)
        #expect(!connection.isOpen)
    }
}

/// Whole exchanges with the origin connection on an `EmbeddedChannel` too (leased from the
/// pool): the exact bytes each side writes, and how many writes.
struct ForwardedExchangeWireTests {
    private func strings(_ channel: EmbeddedChannel) throws -> [String] {
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { writes.append(String(buffer: buffer)) }
        return writes
    }

    @Test func aSmallResponseGoesToTheClientWithItsHeadInOneWrite() throws {
        let client = try EmbeddedClientConnection()
        let (origin, originHandler) = try client.pooledOrigin(host: "example.com", port: 80)
        try client.send("GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n")
        let request = try self.strings(origin).joined()
        #expect(request.hasPrefix("GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"), "\(request)")
        #expect(request.contains("\r\nVia: 1.1 portcullis\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))

        try origin.writeInbound(
            ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"))
        #expect(
            try self.strings(client.channel) == [
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nVia: 1.1 portcullis\r\n\r\nhello"
            ])
        // The origin connection went back to the pool for the next request to that origin.
        #expect(client.pool.lease(OriginPool.Key(host: "example.com", port: 80))?.1 === originHandler)
        origin.tearDown()
    }

    /// The client's field lines reach the origin as their bytes: a value in obs-text (here a
    /// Latin-1 `é`, not UTF-8) is not turned into U+FFFD, white space around a value is
    /// trimmed, hop-by-hop fields are dropped, and the proxy's own fields follow (two `Via`
    /// lines joined into one, a Latin-1 `ö` in the second kept as it is).
    @Test func requestFieldValuesReachTheOriginByteForByte() throws {
        let client = try EmbeddedClientConnection()
        let (origin, _) = try client.pooledOrigin(host: "example.com", port: 80)
        try client.send(
            bytes: Array("GET http://example.com/c HTTP/1.1\r\nHost: example.com\r\nX-Name:  caf".utf8) + [0xE9]
                + Array(
                    " \r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nVia: 1.0 first\r\nAccept: */*\r\nVia: 1.1 f"
                        .utf8)
                + [0xF6] + Array("rst\r\n\r\n".utf8))
        var request: [UInt8] = []
        while let buffer = try origin.readOutbound(as: ByteBuffer.self) { request += buffer.readableBytesView }
        let expected: [UInt8] =
            Array("GET /c HTTP/1.1\r\nHost: example.com\r\nX-Name: caf".utf8) + [0xE9]
            + Array("\r\nAccept: */*\r\nVia: 1.0 first, 1.1 f".utf8) + [0xF6]
            + Array("rst, 1.1 portcullis\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n".utf8)
        #expect(request == expected, "\(String(decoding: request, as: UTF8.self))")
        origin.tearDown()
    }

    @Test func aBodyCutAcrossReadsGoesOutAsItComes() throws {
        let client = try EmbeddedClientConnection()
        let (origin, _) = try client.pooledOrigin(host: "example.com", port: 80)
        try client.send("GET http://example.com/b HTTP/1.1\r\nHost: example.com\r\n\r\n")
        _ = try self.strings(origin)
        // The head alone, then the read ends: what came goes out (nothing is held back waiting).
        try origin.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"))
        origin.pipeline.fireChannelReadComplete()
        #expect(
            try self.strings(client.channel) == [
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nVia: 1.1 portcullis\r\n\r\nhello"
            ])
        try origin.writeInbound(ByteBuffer(string: "world"))
        origin.pipeline.fireChannelReadComplete()
        #expect(try self.strings(client.channel) == ["world"])
        origin.tearDown()
    }
}
