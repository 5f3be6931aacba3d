import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import Proxy

/// An origin connection holds its exchange's handler strongly (`OriginConnectionHandler.delegate`),
/// and pooled connections live as long as the pool. So every way an exchange ends must drop that
/// reference, or a closed client's handler (and what it holds) would live on in the pool.
struct ExchangeReleaseTests {
    enum Ending: CaseIterable, CustomTestStringConvertible {
        case completedWithTheOriginPooled
        case clientClosedMidResponse
        case clientClosedWithARequestPipelinedBehind
        case originClosedMidResponse
        case originTimedOut
        case originSentGarbage
        case answeredLocally

        var testDescription: String { "\(self)" }
    }

    private static let request = "GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\n\r\n"

    @Test(arguments: Ending.allCases)
    func aFinishedExchangeLeavesNoHandlerBehind(_ ending: Ending) throws {
        weak var clientHandler: ClientConnectionHandler?
        let pool: OriginPool
        let origin: EmbeddedChannel
        let originHandler: OriginConnectionHandler
        do {
            let client = try EmbeddedClientConnection()
            clientHandler = try client.channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
            (origin, originHandler) = try client.pooledOrigin(host: "example.com", port: 80)
            pool = client.pool
            switch ending {
            case .completedWithTheOriginPooled:
                try client.send(Self.request)
                try origin.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
                #expect(try client.received().hasSuffix("\r\n\r\nok"))
            case .clientClosedMidResponse:
                try client.send(Self.request)
                try origin.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\npart"))
                origin.pipeline.fireChannelReadComplete()
                #expect(originHandler.delegate != nil)
                try client.channel.close().wait()
            case .clientClosedWithARequestPipelinedBehind:
                try client.send(Self.request + Self.request)
                #expect(originHandler.delegate != nil)
                try client.channel.close().wait()
            case .originClosedMidResponse:
                try client.send(Self.request)
                try origin.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\npart"))
                try origin.close().wait()
            case .originTimedOut:
                try client.send(Self.request)
                client.loop.advanceTime(by: .seconds(31))
                #expect(try client.received().hasPrefix("HTTP/1.1 504 "))
            case .originSentGarbage:
                try client.send(Self.request)
                try origin.writeInbound(ByteBuffer(string: "this is not HTTP\r\n\r\n"))
                #expect(try client.received().hasPrefix("HTTP/1.1 502 "))
            case .answeredLocally:
                try client.send("GET ftp://example.com/a HTTP/1.1\r\nHost: example.com\r\n\r\n")
                #expect(try client.received().hasPrefix("HTTP/1.1 501 "))
            }
            #expect(originHandler.delegate == nil)
        }
        // The client connection is gone, and the loop has run what its close left to do (the
        // pipeline's teardown); the pool and the origin connection are still here, as they would
        // be in the proxy. Nothing of theirs may hold the client's handler.
        origin.embeddedEventLoop.run()
        #expect(clientHandler == nil)
        withExtendedLifetime((pool, originHandler)) {}
        origin.tearDown()
    }
}
