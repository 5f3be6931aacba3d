import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import Proxy

/// The origin side of an exchange on an `EmbeddedChannel`: response bytes in, events to the
/// exchange out, and the read timeout on the test's clock.
struct OriginConnectionHandlerTests {
    /// An exchange that writes down what the connection tells it.
    private final class RecordingExchange: OriginConnectionDelegate {
        var events: [String] = []
        var ended: [String] = []
        var mayReadOrigin: Bool { true }
        /// Runs after the `end` event is written down (the exchange letting the connection go).
        var onEnd: () -> Void = {}

        func originReceived(_ event: OriginResponseEvent) {
            switch event {
            case .head(let head): self.events.append("head \(head.status)")
            case .informational(let head): self.events.append("informational \(head.status)")
            case .body(let bytes): self.events.append("body \(String(buffer: bytes))")
            case .end:
                self.events.append("end")
                self.onEnd()
            }
        }
        func originReadComplete() {}
        func originWritabilityChanged(isWritable: Bool) {}
        func originEnded(error: (any Error)?) { self.ended.append(error.map { "\($0)" } ?? "closed") }
    }

    private func connection(
        readTimeout: TimeAmount = .seconds(30)
    ) throws -> (EmbeddedEventLoop, EmbeddedChannel, OriginConnectionHandler) {
        let loop = EmbeddedEventLoop()
        let handler = OriginConnectionHandler(readTimeout: readTimeout)
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        return (loop, channel, handler)
    }

    @Test func theReadTimeoutCountsFromTheClockReadingTheExchangeAttachedWith() throws {
        let (loop, channel, handler) = try self.connection()
        let exchange = RecordingExchange()
        loop.advanceTime(by: .seconds(60))  // (the embedded clock starts at zero)
        // The exchange took the connection as its request started, 20 s ago on its clock.
        handler.attach(exchange, now: loop.now - .seconds(20))
        handler.expectResponse(requestWasHEAD: false)
        loop.advanceTime(by: .seconds(9))
        #expect(exchange.ended.isEmpty)
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(exchange.ended == ["the origin did not answer in time"])
        #expect(!channel.isActive)
        #expect(handler.delegate == nil)
    }

    @Test func anAnsweredRequestReleasedToThePoolIsNotTimedOut() throws {
        let (loop, channel, handler) = try self.connection()
        let exchange = RecordingExchange()
        handler.attach(exchange, now: loop.now)
        handler.expectResponse(requestWasHEAD: false)
        loop.advanceTime(by: .seconds(10))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
        #expect(exchange.events == ["head 200", "body hello", "end"])
        handler.detach()
        // Pooled: the check that was armed lapses; an idle connection is the pool's business.
        loop.advanceTime(by: .seconds(120))
        #expect(exchange.ended.isEmpty)
        #expect(channel.isActive)
        channel.tearDown()
    }

    /// One read can hold the end of a response and what follows it. The read goes on with
    /// whichever exchange holds the connection after each event: the next one that took it
    /// (a pipelined request), or none, and then the bytes are unsolicited.
    @Test func aReadFollowsTheConnectionFromExchangeToExchange() throws {
        let (loop, channel, handler) = try self.connection()
        let first = RecordingExchange()
        let second = RecordingExchange()
        first.onEnd = {
            handler.detach()
            handler.attach(second, now: loop.now)
            handler.expectResponse(requestWasHEAD: false)
        }
        handler.attach(first, now: loop.now)
        handler.expectResponse(requestWasHEAD: false)
        try channel.writeInbound(
            ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\n"))
        #expect(first.events == ["head 200", "body a", "end"])
        #expect(second.events == ["head 204", "end"])
        #expect(channel.isActive)
        first.onEnd = {}  // (it holds the handler)
        channel.tearDown()
    }

    @Test func bytesBehindAResponseWhoseExchangeLetGoCloseTheConnection() throws {
        let (loop, channel, handler) = try self.connection()
        let exchange = RecordingExchange()
        exchange.onEnd = { handler.detach() }
        handler.attach(exchange, now: loop.now)
        handler.expectResponse(requestWasHEAD: false)
        try channel.writeInbound(
            ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No Content\r\n\r\n"))
        #expect(exchange.events == ["head 200", "body a", "end"])
        #expect(exchange.ended.isEmpty)
        #expect(!channel.isActive)
        exchange.onEnd = {}  // (it holds the handler)
        channel.tearDown()
    }

    @Test func bytesFromTheOriginPushTheTimeoutBack() throws {
        let (loop, channel, handler) = try self.connection(readTimeout: .seconds(30))
        let exchange = RecordingExchange()
        handler.attach(exchange, now: loop.now)
        handler.expectResponse(requestWasHEAD: false)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
        for _ in 0..<4 {
            loop.advanceTime(by: .seconds(20))
            try channel.writeInbound(ByteBuffer(string: "2\r\nab\r\n"))
        }
        #expect(exchange.ended.isEmpty)
        // Then silence, mid-body: the exchange hears of it once, and the connection goes.
        loop.advanceTime(by: .seconds(30))
        #expect(exchange.ended == ["the origin did not answer in time"])
        #expect(exchange.events.filter { $0 == "body ab" }.count == 4)
        #expect(!channel.isActive)
    }
}
