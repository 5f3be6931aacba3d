import ICAP
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Policy
import ServiceLifecycle

/// The forward proxy: its listeners, event loops and everything they share. A `Service`, so
/// a `ServiceGroup` runs it with graceful shutdown on SIGTERM/SIGINT.
public final class ProxyServer: Service, @unchecked Sendable {
    // @unchecked: the mutable state below is written by `start()` and `shutdown()` only, which
    // the owner calls in order; the event loops see only the immutable environment.
    private let configuration: ProxyConfiguration
    private let policies: LoopPolicies
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let resolverPool: NIOThreadPool
    private let connections: ClientConnections
    private var accessLogWriter: AccessLogWriter?
    private var accessLogs: AccessLogBuffers?
    private var serverChannels: [any Channel] = []
    private var isShutDown = false
    private let environmentSlot = EnvironmentSlot()

    /// Client connections open right now.
    public var openClientConnections: Int { self.connections.openCount }

    /// The addresses actually bound (ports resolved when 0 was asked for).
    public private(set) var boundAddresses: [SocketAddress] = []
    /// The ICAP server's addresses actually bound.
    public private(set) var boundICAPAddresses: [SocketAddress] = []

    /// What a listener serves.
    private enum ListenerKind {
        case proxy
        case icap
    }

    /// A proxy deciding with `policy` until `publish(_:)` brings a newer snapshot.
    public init(configuration: ProxyConfiguration, policy: PolicySnapshot, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        self.policies = LoopPolicies(group: self.group, initial: policy)
        // getaddrinfo blocks: enough threads that a few slow names do not hold up the rest.
        self.resolverPool = NIOThreadPool(numberOfThreads: 8)
        self.connections = ClientConnections(limit: configuration.maxClientConnections)
    }

    /// Hands a new policy snapshot to every event loop. Exchanges already decided finish with
    /// the snapshot they had; no connection is touched.
    public func publish(_ snapshot: PolicySnapshot) async {
        await self.policies.publish(snapshot)
    }

    /// Binds every listener and starts accepting.
    public func start() async throws {
        self.resolverPool.start()
        if self.configuration.accessLog != .off {
            self.accessLogWriter = try AccessLogWriter(target: self.configuration.accessLog)
        }
        let accessLogs = AccessLogBuffers(group: self.group, writer: self.accessLogWriter)
        self.accessLogs = accessLogs

        for address in self.configuration.listen {
            let channel = try await self.bind(.proxy, address, setting: "listen")
            if let local = channel.localAddress { self.boundAddresses.append(local) }
        }
        for address in self.configuration.icapListen {
            let channel = try await self.bind(.icap, address, setting: "icap-listen")
            if let local = channel.localAddress { self.boundICAPAddresses.append(local) }
        }
        let icapServices =
            self.configuration.icapServices.isEmpty
            ? nil
            : ICAPServiceGroups(
                configurations: self.configuration.icapServices, group: self.group,
                connectTimeout: self.configuration.connectTimeout, readTimeout: self.configuration.icapReadTimeout,
                logger: self.logger)
        let environment = ProxyEnvironment(
            configuration: self.configuration,
            planner: RequestPlanner(configuration: self.configuration),
            connector: OriginConnector(
                resolver: OriginResolver(threadPool: self.resolverPool, timeout: self.configuration.connectTimeout),
                destinationGuard: DestinationGuard(
                    deniedNetworks: self.configuration.deniedDestinations,
                    listeners: self.boundAddresses + self.boundICAPAddresses,
                    localAddresses: ((try? System.enumerateDevices()) ?? []).compactMap(\.address)),
                connectTimeout: self.configuration.connectTimeout),
            policies: self.policies,
            pools: OriginPools(
                group: self.group, maxIdlePerKey: self.configuration.maxIdleOriginConnections,
                idleTimeout: self.configuration.originIdleTimeout),
            accessLogs: accessLogs,
            icapServices: icapServices)
        icapServices?.start(group: self.group)
        self.environmentSlot.environment = environment
        // Listeners were bound with accepting paused until the environment (which needs the
        // bound addresses, for loop prevention) was ready.
        for channel in self.serverChannels {
            try await channel.setOption(.autoRead, value: true).get()
        }
        self.logger.info(
            "proxy listening",
            metadata: [
                "addresses": .array(self.boundAddresses.map { .string("\($0)") }),
                "threads": "\(self.configuration.threads)",
            ])
    }

    /// Stops accepting, lets in-flight exchanges finish up to the grace period, closes what is
    /// left, writes out the access log and stops the event loops.
    /// A second call does nothing.
    public func shutdown() async {
        guard !self.isShutDown else { return }
        self.isShutDown = true
        for channel in self.serverChannels {
            try? await channel.close()
        }
        let loop = self.group.next()
        let drained = self.connections.quiesce(on: loop)
        let deadline = loop.scheduleTask(in: self.configuration.shutdownGracePeriod) {}
        // Whichever comes first: the last connection closing, or the deadline.
        let promise = loop.makePromise(of: Void.self)
        drained.cascade(to: promise)
        deadline.futureResult.whenComplete { _ in promise.succeed() }
        try? await promise.futureResult.get()
        deadline.cancel()
        if self.connections.openCount > 0 {
            self.logger.warning(
                "closing connections at the end of the grace period",
                metadata: ["open": "\(self.connections.openCount)"])
            self.connections.closeAll()
            try? await self.connections.quiesce(on: loop).get()
        }
        if let environment = self.environmentSlot.environment {
            await environment.pools.closeAll(group: self.group)
            await environment.icapServices?.closeAll(group: self.group)
        }
        if let accessLogs = self.accessLogs { await accessLogs.flushAll(group: self.group) }
        try? await self.group.shutdownGracefully()
        try? await self.resolverPool.shutdownGracefully()
        await self.accessLogWriter?.shutdown()
        self.logger.info("proxy stopped")
    }

    public func run() async throws {
        try await self.start()
        try? await gracefulShutdown()
        await self.shutdown()
    }

    /// A listener on `address`, accepting paused (see `start`).
    private func bind(_ kind: ListenerKind, _ address: HostAndPort, setting: String) async throws -> any Channel {
        do {
            let socketAddress = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
            let channel = try await self.makeBootstrap(kind).bind(to: socketAddress).get()
            self.serverChannels.append(channel)
            return channel
        } catch {
            throw ListenError(setting: setting, address: address, error: error)
        }
    }

    private func makeBootstrap(_ kind: ListenerKind) -> ServerBootstrap {
        let connections = self.connections
        let slot = self.environmentSlot
        let logger = self.logger
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            // One accept per readiness event, so the connection limit is never overshot.
            .serverChannelOption(.maxMessagesPerRead, value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptLimitHandler(connections: connections))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // One read per readiness event: a second read would only return EAGAIN.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let environment = slot.environment else { throw ChannelError.ioOnClosedChannel }
                    switch kind {
                    case .proxy:
                        try Self.configureClientPipeline(channel: channel, environment: environment, logger: logger)
                    case .icap:
                        try Self.configureICAPPipeline(channel: channel, environment: environment)
                    }
                }
            }
    }

    /// Portcullis as an ICAP server: the same clients may use it as may use the proxy.
    static func configureICAPPipeline(channel: any Channel, environment: ProxyEnvironment) throws {
        guard let peer = channel.remoteAddress, environment.configuration.allowedClients.contains(address: peer) else {
            channel.close(promise: nil)
            return
        }
        let sync = channel.pipeline.syncOperations
        // A connection that sends nothing for the idle timeout (between requests or inside one)
        // is closed; ICAP clients reconnect as they need.
        try sync.addHandler(IdleStateHandler(readTimeout: environment.configuration.idleTimeout))
        try sync.addICAPServerHandlers(maxHeaderBytes: environment.configuration.maxHeaderBytes)
        try sync.addHandler(
            ICAPServerHandler(
                adapter: ICAPPolicyAdapter(
                    policy: environment.policies.policy(for: channel.eventLoop), environment: environment,
                    allocator: channel.allocator)))
    }

    static func configureClientPipeline(channel: any Channel, environment: ProxyEnvironment, logger: Logger) throws {
        try channel.pipeline.syncOperations.addHandler(
            ClientConnectionHandler(
                environment: environment, pool: environment.pools.pool(for: channel.eventLoop),
                accessLog: environment.accessLogs.buffer(for: channel.eventLoop),
                policy: environment.policies.policy(for: channel.eventLoop),
                icapServices: environment.icapServices?.services(for: channel.eventLoop),
                clientAddress: channel.remoteAddress, logger: logger))
    }
}

/// Holds the environment, written once before any listener accepts.
private final class EnvironmentSlot: @unchecked Sendable {
    // Written before `autoRead` is switched on (a hop through each server channel's event
    // loop, which orders the write before every read); read-only afterwards.
    var environment: ProxyEnvironment?
}
