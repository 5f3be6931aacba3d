import ICAP
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Proxy

/// `ICAPBodyExchange` against an in-process ICAP service that records how the preview ended:
/// what c-icap does not show (whether it was told `ieof`).
extension Integration {
    @Suite struct ICAPBodyExchangeTests {
        /// Records each request's preview end, answers 204.
        final class PreviewRecorder: ChannelInboundHandler {
            typealias InboundIn = ICAPRequestPart
            typealias OutboundOut = ICAPResponsePart

            let ends: NIOLockedValueBox<[Bool]>

            init(ends: NIOLockedValueBox<[Bool]>) { self.ends = ends }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                guard case .previewEnd(let ieof) = Self.unwrapInboundIn(data) else { return }
                self.ends.withLockedValue { $0.append(ieof) }
                context.write(
                    Self.wrapOutboundOut(
                        .head(ICAPResponseHead(status: .noContent, headers: ["ISTag": "\"r\""]), .none)),
                    promise: nil)
                context.writeAndFlush(Self.wrapOutboundOut(.end), promise: nil)
            }
        }

        final class Answers: ICAPBodyExchangeDelegate {
            let statuses: NIOLockedValueBox<[Int]>
            init(statuses: NIOLockedValueBox<[Int]>) { self.statuses = statuses }
            func exchangeAnswered(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
                self.statuses.withLockedValue { $0.append(head.statusCode) }
            }
            func exchangeAnswerBody(_ buffer: ByteBuffer) {}
            func exchangeAnswerEnded() {}
            func exchangeFailed(_ error: ICAPClientError, keptAllInput: Bool) {
                self.statuses.withLockedValue { $0.append(-1) }
            }
            /// How often it asked for input (upstream held its reads until then).
            let wants = NIOLockedValueBox(0)
            func exchangeWantsInput() { self.wants.withLockedValue { $0 += 1 } }
            var exchangeMayDeliver: Bool { true }
        }

        /// A body exactly the preview's size is sent with `ieof` once its end comes (no round
        /// trip for the rest); one byte more, and the preview says the body goes on. And input
        /// refused while the connection was coming is asked for once the preview needs it.
        @Test(arguments: [(1024, true), (1025, false), (10, true)])
        func aBodyThatFitsThePreviewEndsItWithIeof(bodyBytes: Int, ieof: Bool) async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let ends = NIOLockedValueBox<[Bool]>([])
            let server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addICAPServerHandlers()
                        try channel.pipeline.syncOperations.addHandler(PreviewRecorder(ends: ends))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            let loop = group.next()
            let statuses = NIOLockedValueBox<[Int]>([])
            let kept = try await loop.submit {
                let client = ICAPServiceClient(
                    configuration: try ICAPServiceConfiguration(
                        parsing: "respmod icap://127.0.0.1:\(port)/r preview=1024"),
                    loop: loop, loopCount: 1, connectTimeout: .seconds(2), readTimeout: .seconds(5),
                    logger: Logger(label: "test"))
                let exchange = ICAPBodyExchange(client: client)
                let answers = Answers(statuses: statuses)
                exchange.delegate = answers
                exchange.start(hasBody: true) { preview in
                    var headers = ICAPHeaders()
                    headers.add(name: "Host", value: client.hostHeader)
                    headers.add(name: "Preview", value: String(preview ?? 0))
                    let head = ICAPRequestHead(method: .respmod, uri: client.url, headers: headers)
                    let heads = ICAPEncapsulatedHeads(
                        checkedRequestHeadBytes: nil,
                        checkedResponseHeadBytes: ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), body: .responseBody)
                    return (head, heads)
                }
                return NIOLoopBound((exchange, answers), eventLoop: loop)
            }.get()
            // Once the connection is there and the preview is being gathered, the body arrives
            // whole, then its end: as an origin's parser hands them over, one after the other.
            #expect(await eventually { (try? loop.submit { kept.value.0.mayTakeInput }.wait()) == true })
            // Input was refused while the connection came: the exchange says when it wants it.
            #expect(try await loop.submit { kept.value.1.wants.withLockedValue { $0 } }.get() >= 1)
            try await loop.submit {
                kept.value.0.input(ByteBuffer(repeating: UInt8(ascii: "x"), count: bodyBytes))
                kept.value.0.endInput()
            }.get()
            #expect(await eventually { !statuses.withLockedValue { $0 }.isEmpty })
            #expect(ends.withLockedValue { $0 } == [ieof])
            #expect(statuses.withLockedValue { $0 } == [204])
            try await loop.submit { kept.value.0.cancel() }.get()
            try await server.close()
            try await group.shutdownGracefully()
        }
    }
}
