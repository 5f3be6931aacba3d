import ICAP
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One ICAP service on one event loop: its idle persistent connections (at most
/// `Max-Connections` from OPTIONS divided by the loop count, at least one), its OPTIONS
/// (fetched at start, refreshed per `Options-TTL`), its ISTag and its circuit breaker.
/// Loop-bound: every method runs on `loop`.
final class ICAPServiceClient {
    typealias Completion = (Result<ICAPClientResponse, ICAPClientError>) -> Void
    private typealias Connection = (channel: any Channel, handler: ICAPClientHandler)

    let configuration: ICAPServiceConfiguration
    let loop: any EventLoop
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let loopCount: Int
    private let logger: Logger
    private var idle: [Connection] = []
    private(set) var maxIdle = 8
    private var breaker = ServiceCircuitBreaker()
    private(set) var options: ICAPOptions?
    private(set) var istag: String?
    private var refresh: Scheduled<Void>?
    private var isClosed = false

    init(
        configuration: ICAPServiceConfiguration, loop: any EventLoop, loopCount: Int, connectTimeout: TimeAmount,
        readTimeout: TimeAmount, logger: Logger
    ) {
        self.configuration = configuration
        self.loop = loop
        self.loopCount = max(1, loopCount)
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.logger = logger
    }

    /// The `Host` header of every request to the service.
    var hostHeader: String {
        let host = self.configuration.host.contains(":") ? "[\(self.configuration.host)]" : self.configuration.host
        return "\(host):\(self.configuration.port)"
    }

    /// Body bytes to preview: the configured size, else what OPTIONS asked for.
    var previewSize: Int? { self.configuration.preview ?? self.options?.preview }

    /// Sends `request` if the breaker lets it; an answer other than 200 or 204 is a failure.
    func exchange(_ request: ICAPClientRequest, completion: @escaping Completion) {
        self.loop.preconditionInEventLoop()
        guard self.breaker.permitsRequest(at: self.loop.now) else {
            completion(.failure(.suspended))
            return
        }
        self.send(request) { result in
            switch result {
            case .success(let response) where response.head.statusCode == 200 || response.head.statusCode == 204:
                if let tag = response.head.istag { self.istag = tag }
                self.note(self.breaker.recordSuccess())
                completion(.success(response))
            case .success(let response):
                self.note(self.breaker.recordFailure(at: self.loop.now))
                completion(.failure(.status(response.head.statusCode)))
            case .failure(let error):
                self.note(self.breaker.recordFailure(at: self.loop.now))
                completion(.failure(error))
            }
        }
    }

    private func note(_ transition: ServiceCircuitBreaker.Transition) {
        switch transition {
        case .none:
            break
        case .suspended(let backoff):
            self.logger.warning(
                "ICAP service suspended after repeated failures",
                metadata: [
                    "icap.service": "\(self.configuration.name)",
                    "icap.backoff_ms": "\(backoff.nanoseconds / 1_000_000)",
                ])
        case .resumed:
            self.logger.notice("ICAP service resumed", metadata: ["icap.service": "\(self.configuration.name)"])
        }
    }

    // MARK: connections

    /// Runs `request` on an idle connection, or a new one. A reused connection found closed
    /// before answering (the service timed it out as we sent) is retried once on a new one.
    private func send(_ request: ICAPClientRequest, completion: @escaping Completion) {
        while let connection = self.idle.popLast() {
            guard connection.handler.isReusable else {
                connection.channel.close(promise: nil)
                continue
            }
            self.run(request, on: connection) { result in
                if case .failure(let error) = result, error == .closed {
                    self.sendOnNewConnection(request, completion: completion)
                } else {
                    completion(result)
                }
            }
            return
        }
        self.sendOnNewConnection(request, completion: completion)
    }

    private func sendOnNewConnection(_ request: ICAPClientRequest, completion: @escaping Completion) {
        let loopBound = NIOLoopBound((self, completion), eventLoop: self.loop)
        self.connect().whenComplete { result in
            let (this, completion) = loopBound.value
            switch result {
            case .success(let connection):
                this.run(request, on: connection, completion: completion)
            case .failure(let error):
                completion(.failure(.connect("\(error)")))
            }
        }
    }

    private func run(_ request: ICAPClientRequest, on connection: Connection, completion: @escaping Completion) {
        connection.handler.run(request) { result in
            if case .success = result, connection.handler.isReusable, !self.isClosed, self.idle.count < self.maxIdle {
                self.idle.append(connection)
            } else if case .success = result {
                connection.channel.close(promise: nil)
            }
            completion(result)
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let readTimeout = self.readTimeout
        let bootstrap = ClientBootstrap(group: self.loop)
            .connectTimeout(self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addICAPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ICAPClientHandler(readTimeout: readTimeout))
                }
            }
        let future: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: self.configuration.host, port: self.configuration.port) {
            future = bootstrap.connect(to: address)
        } else {
            future = bootstrap.connect(host: self.configuration.host, port: self.configuration.port)
        }
        return future.flatMapThrowing { channel in
            (channel, try channel.pipeline.syncOperations.handler(type: ICAPClientHandler.self))
        }
    }

    // MARK: OPTIONS

    /// Asks the service for its OPTIONS (off the request path), then again when they expire:
    /// after `Options-TTL` seconds (an hour without one), or a minute after a failure.
    func fetchOptions() {
        self.loop.preconditionInEventLoop()
        guard !self.isClosed else { return }
        var headers = ICAPHeaders()
        headers.add(name: "Host", value: self.hostHeader)
        let head = ICAPRequestHead(method: .options, uri: self.configuration.url, headers: headers)
        self.send(ICAPClientRequest(head: head, heads: .none)) { result in
            var ttl: TimeAmount = .seconds(60)
            switch result {
            case .success(let response):
                do {
                    let options = try ICAPOptions(parsing: response.head)
                    self.options = options
                    self.istag = options.istag
                    if let limit = options.maxConnections {
                        self.maxIdle = max(1, limit / self.loopCount)
                        while self.idle.count > self.maxIdle { self.idle.removeFirst().channel.close(promise: nil) }
                    }
                    ttl = .seconds(Int64(max(1, options.optionsTTL ?? 3600)))
                } catch {
                    self.logger.debug(
                        "ICAP OPTIONS answer unusable",
                        metadata: ["icap.service": "\(self.configuration.name)", "error": "\(error)"])
                }
            case .failure(let error):
                self.logger.debug(
                    "ICAP OPTIONS failed",
                    metadata: ["icap.service": "\(self.configuration.name)", "error": "\(error)"])
            }
            guard !self.isClosed else { return }
            let loopBound = NIOLoopBound(self, eventLoop: self.loop)
            self.refresh = self.loop.scheduleTask(in: ttl) { loopBound.value.fetchOptions() }
        }
    }

    /// Closes idle connections and stops refreshing (shutdown).
    func close() {
        self.isClosed = true
        self.refresh?.cancel()
        self.refresh = nil
        for connection in self.idle { connection.channel.close(promise: nil) }
        self.idle.removeAll()
    }
}

@available(*, unavailable)
extension ICAPServiceClient: Sendable {}
