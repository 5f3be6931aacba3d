import NIOCore
import NIOEmbedded
import Testing

@testable import Proxy

struct RequestHeadGuardHandlerTests {
    private func channel(limit: Int) throws -> (EmbeddedChannel, RequestHeadGuardHandler) {
        let handler = RequestHeadGuardHandler(
            maxHeadBytes: limit, idleTimeout: .seconds(60), headerTimeout: .seconds(30))
        let channel = EmbeddedChannel(handler: handler)
        return (channel, handler)
    }

    @Test func bytesPassThroughUntouched() throws {
        let (channel, _) = try self.channel(limit: 100)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\nbody"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n\r\nbody"))
    }

    @Test func onlyTheHeadCountsNotTheBodyBehindIt() throws {
        let (channel, _) = try self.channel(limit: 30)
        // A 20-byte head followed by a large body in the same read is fine.
        try channel.writeInbound(ByteBuffer(string: "POST / HTTP/1.1\r\n\r\n" + String(repeating: "x", count: 500)))
        #expect(try channel.readInbound(as: ByteBuffer.self) != nil)
    }

    @Test func aHeadOverTheLimitRaisesAnErrorAcrossReads() throws {
        let (channel, _) = try self.channel(limit: 30)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nX-A: 12345"))
        #expect(throws: RequestHeadGuardHandler.HeadTooLarge.self) {
            try channel.writeInbound(ByteBuffer(string: "67890123456789\r\n\r\n"))
        }
    }

    @Test func theTerminatorMaySplitAcrossReads() throws {
        let (channel, handler) = try self.channel(limit: 20)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r"))
        try channel.writeInbound(ByteBuffer(string: "\n" + String(repeating: "b", count: 100)))
        _ = try channel.readInbound(as: ByteBuffer.self)
        _ = try channel.readInbound(as: ByteBuffer.self)
        // The next head is counted afresh once the exchange is over.
        handler.awaitNextHead()
        #expect(throws: RequestHeadGuardHandler.HeadTooLarge.self) {
            try channel.writeInbound(ByteBuffer(string: String(repeating: "c", count: 21)))
        }
    }

    @Test func emptyLinesAreNoHeadAndTheIdleTimeoutStillCloses() throws {
        let loop = EmbeddedEventLoop()
        let handler = RequestHeadGuardHandler(maxHeadBytes: 20, idleTimeout: .seconds(10), headerTimeout: .seconds(5))
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        // Line breaks alone, more of them than the head limit: no head has started or ended.
        for _ in 0..<5 {
            try channel.writeInbound(ByteBuffer(string: "\r\n\r\n\r\n\r\n\r\n\r\n"))
            loop.advanceTime(by: .seconds(1))
        }
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(6))
        #expect(!channel.isActive)
    }

    @Test func aHeadAfterEmptyLinesIsCountedFromItsFirstByte() throws {
        let (channel, _) = try self.channel(limit: 20)
        // 18 bytes of head behind 40 of line breaks: under the limit of 20.
        try channel.writeInbound(ByteBuffer(string: String(repeating: "\r\n", count: 20) + "GET / HTTP/1.1\r\n\r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) != nil)
    }

    @Test func aPipelinedHeadBeingServedIsNotTimedOut() throws {
        let loop = EmbeddedEventLoop()
        let handler = RequestHeadGuardHandler(maxHeadBytes: 1000, idleTimeout: .seconds(10), headerTimeout: .seconds(5))
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        // Two pipelined heads in one read: the second passes while the first is served.
        try channel.writeInbound(ByteBuffer(string: "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"))
        handler.awaitNextHead()  // the first exchange is over...
        handler.beginExchange()  // ...and the pipelined second is taken up at once
        loop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
    }
}
