import NIOCore
import NIOHTTP1
import NIOPosix

/// Opens connections to origins (and CONNECT targets) on a given event loop: resolves the
/// name off-loop, drops denied addresses, then races IPv6 and IPv4 (Happy Eyeballs).
struct OriginConnector: Sendable {
    let resolver: OriginResolver
    let destinationGuard: DestinationGuard
    let connectTimeout: TimeAmount

    /// A raw TCP connection (for tunnels); the channel has no handlers yet.
    func connectRaw(host: String, port: Int, on loop: any EventLoop) -> EventLoopFuture<any Channel> {
        self.connect(host: host, port: port, on: loop) { _ in loop.makeSucceededVoidFuture() }
    }

    /// A connection ready for HTTP/1.1 exchanges, ending in an `OriginConnectionHandler`.
    func connectHTTP(
        host: String, port: Int, on loop: any EventLoop, readTimeout: TimeAmount
    ) -> EventLoopFuture<any Channel> {
        self.connect(host: host, port: port, on: loop) { channel in
            channel.eventLoop.makeCompletedFuture {
                // The handler writes requests as bytes and parses responses in place
                // (OriginRequestSerializer, OriginResponseParser): no HTTP codec handlers.
                try channel.pipeline.syncOperations.addHandler(OriginConnectionHandler(readTimeout: readTimeout))
            }
        }
    }

    private func connect(
        host: String, port: Int, on loop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        let destinationGuard = self.destinationGuard
        let timeout = self.connectTimeout
        return self.resolver.resolve(host: host, port: port, on: loop)
            .flatMapErrorThrowing { error in
                throw OriginConnectError(kind: .nameNotResolved, detail: "\(error)")
            }
            .flatMap { addresses -> EventLoopFuture<any Channel> in
                let allowed = addresses.filter { !destinationGuard.isDenied($0) }
                guard !allowed.isEmpty else {
                    return loop.makeFailedFuture(
                        OriginConnectError(
                            kind: .destinationDenied, detail: "destination \(host):\(port) is not allowed"))
                }
                return ClientBootstrap(group: loop)
                    .connectTimeout(timeout)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .channelOption(.maxMessagesPerRead, value: 1)
                    .resolver(ResolvedAddresses(allowed, loop: loop))
                    .channelInitializer(initializer)
                    .connect(host: host, port: port)
                    .flatMapErrorThrowing { error in
                        if let error = error as? ChannelError, case .connectTimeout = error {
                            throw OriginConnectError(kind: .timeout, detail: "connecting to \(host):\(port) timed out")
                        }
                        throw OriginConnectError(
                            kind: .unreachable, detail: "cannot connect to \(host):\(port): \(error)")
                    }
            }
    }
}
