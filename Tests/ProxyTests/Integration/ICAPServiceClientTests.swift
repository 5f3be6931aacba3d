import Foundation
import ICAP
import Logging
import MetricsTestKit
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Proxy

/// `ICAPServiceClient` against an in-process ICAP service built on the codec's server handlers:
/// what c-icap cannot be made to say (`Max-Connections`) and count (connections at once).
extension Integration {
    @Suite struct ICAPServiceClientTests {
        /// Answers OPTIONS with `Max-Connections: 2` and every REQMOD with a 204 after `delay`.
        final class SlowService: ChannelInboundHandler {
            typealias InboundIn = ICAPRequestPart
            typealias OutboundOut = ICAPResponsePart

            let counts: NIOLockedValueBox<(open: Int, peak: Int, reqmods: Int)>
            let delay: TimeAmount
            private var method: ICAPMethod?

            init(counts: NIOLockedValueBox<(open: Int, peak: Int, reqmods: Int)>, delay: TimeAmount) {
                self.counts = counts
                self.delay = delay
            }

            func channelActive(context: ChannelHandlerContext) {
                self.counts.withLockedValue {
                    $0.open += 1
                    $0.peak = max($0.peak, $0.open)
                }
                context.fireChannelActive()
            }

            func channelInactive(context: ChannelHandlerContext) {
                self.counts.withLockedValue { $0.open -= 1 }
                context.fireChannelInactive()
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                switch Self.unwrapInboundIn(data) {
                case .head(let head, _):
                    self.method = head.method
                case .end:
                    if self.method == .options {
                        let options = ICAPOptions(
                            methods: [.reqmod], istag: "\"slow\"", maxConnections: 2, optionsTTL: 60, allows204: true)
                        context.write(Self.wrapOutboundOut(.head(options.responseHead, .none)), promise: nil)
                        context.writeAndFlush(Self.wrapOutboundOut(.end), promise: nil)
                        return
                    }
                    self.counts.withLockedValue { $0.reqmods += 1 }
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: self.delay) {
                        let context = bound.value
                        context.write(
                            Self.wrapOutboundOut(
                                .head(ICAPResponseHead(status: .noContent, headers: ["ISTag": "\"slow\""]), .none)),
                            promise: nil)
                        context.writeAndFlush(Self.wrapOutboundOut(.end), promise: nil)
                    }
                default:
                    break
                }
            }
        }

        @Test func maxConnectionsFromOptionsCapsTheConnectionsOfALoopAndRequestsWait() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let counts = NIOLockedValueBox((open: 0, peak: 0, reqmods: 0))
            let server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addICAPServerHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            SlowService(counts: counts, delay: .milliseconds(100)))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            let loop = group.next()
            let client = try await loop.submit {
                NIOLoopBound(
                    ICAPServiceClient(
                        configuration: try ICAPServiceConfiguration(parsing: "reqmod icap://127.0.0.1:\(port)/slow"),
                        loop: loop, loopCount: 1, connectTimeout: .seconds(2), readTimeout: .seconds(5),
                        logger: Logger(label: "test")), eventLoop: loop)
            }.get()
            try await loop.submit { client.value.fetchOptions() }.get()
            #expect(
                await eventually {
                    (try? loop.submit { client.value.connectionLimit }.wait()) == 2
                })
            let results = NIOLockedValueBox<[Int]>([])
            try await loop.submit {
                let head = ICAPRequestHead(
                    method: .reqmod, uri: "icap://127.0.0.1:\(port)/slow", headers: ["Allow": "204"])
                let http = HTTPRequestHead(
                    version: .http1_1, method: .GET, uri: "http://e.com/", headers: ["Host": "e.com"])
                let heads = try ICAPEncapsulatedHeads(request: http, body: .nullBody)
                for _ in 0..<6 {
                    client.value.exchange(ICAPClientRequest(head: head, heads: heads)) { result in
                        let code = (try? result.get().head.statusCode) ?? -1
                        results.withLockedValue { $0.append(code) }
                    }
                }
            }.get()
            #expect(await eventually { results.withLockedValue { $0.count } == 6 })
            #expect(results.withLockedValue { $0 } == Array(repeating: 204, count: 6))
            #expect(counts.withLockedValue { $0.peak } <= 2)
            #expect(counts.withLockedValue { $0.reqmods } == 6)
            try await loop.submit { client.value.close() }.get()
            try await server.close()
            try await group.shutdownGracefully()
        }

        /// Keeps every log record, for checking what a suspension logs.
        struct CapturingLogHandler: LogHandler {
            let records: NIOLockedValueBox<[(Logger.Level, String, Logger.Metadata)]>
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace

            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { self.metadata[key] }
                set { self.metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                self.records.withLockedValue { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
            }
        }

        @Test func aSuspensionIsOneWarningWithTheServiceAndTheBackoffAndIsCounted() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let closedPort = try FreePort.pick()
            let records = NIOLockedValueBox<[(Logger.Level, String, Logger.Metadata)]>([])
            let logger = Logger(label: "test") { _ in CapturingLogHandler(records: records) }
            let metrics = TestMetrics()
            let client = try await loop.submit {
                NIOLoopBound(
                    ICAPServiceClient(
                        configuration: try ICAPServiceConfiguration(
                            parsing: "reqmod icap://127.0.0.1:\(closedPort)/x name=down"),
                        loop: loop, loopCount: 1, connectTimeout: .seconds(2), readTimeout: .seconds(2), logger: logger,
                        metrics: metrics),
                    eventLoop: loop)
            }.get()
            let outcomes = NIOLockedValueBox<[String]>([])
            for _ in 0..<4 {
                let done = try await loop.submit { () -> EventLoopFuture<Void> in
                    let promise = loop.makePromise(of: Void.self)
                    let head = ICAPRequestHead(method: .options, uri: "icap://127.0.0.1/x")
                    client.value.exchange(ICAPClientRequest(head: head, heads: .none)) { result in
                        if case .failure(let error) = result { outcomes.withLockedValue { $0.append(error.label) } }
                        promise.succeed()
                    }
                    return promise.futureResult
                }.get()
                try await done.get()
            }
            #expect(outcomes.withLockedValue { $0 } == ["unreachable", "unreachable", "unreachable", "suspended"])
            let warnings = records.withLockedValue { $0.filter { $0.0 == .warning } }
            #expect(warnings.count == 1)
            #expect(warnings.first?.1 == "ICAP service suspended after repeated failures")
            #expect(warnings.first?.2["icap.service"] == "down")
            #expect(warnings.first?.2["icap.backoff_ms"] == "5000")
            // Each failure is a notice naming the service and what went wrong.
            let notices = records.withLockedValue { $0.filter { $0.0 == .notice && $0.1 == "ICAP service failed" } }
            #expect(notices.count == 3)
            #expect(
                notices.allSatisfy { $0.2["icap.service"] == "down" && "\($0.2["error"] ?? "")".contains("connect") })
            // The refusal while suspended is neither a failure nor a second suspension.
            #expect(try metrics.expectCounter("portcullis_icap_failures_total", [("service", "down")]).totalValue == 3)
            #expect(
                try metrics.expectCounter("portcullis_icap_suspensions_total", [("service", "down")]).totalValue == 1)
            try await loop.submit { client.value.close() }.get()
            try await group.shutdownGracefully()
        }
    }
}
