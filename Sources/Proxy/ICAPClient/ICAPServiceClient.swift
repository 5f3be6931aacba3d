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
    /// Idle connections kept for reuse: the service's `Max-Connections` share once OPTIONS
    /// tell it, else as many as the origin pool keeps. (A small cap churns connections under
    /// load: each exchange beyond it closed its connection and the next opened a new one.)
    private(set) var maxIdle = 256
    private var breaker = ServiceCircuitBreaker()
    private(set) var options: ICAPOptions?
    private(set) var istag: String?
    private var refresh: Scheduled<Void>?
    private var isClosed = false
    /// Connections open or being opened, idle ones included.
    private(set) var openConnections = 0
    /// Requests waiting for a connection while `connectionLimit` are open, oldest first.
    private var waiters = CircularBuffer<Waiter>()

    private final class Waiter {
        let request: ICAPClientRequest
        let completion: Completion
        var timer: Scheduled<Void>?

        init(request: ICAPClientRequest, completion: @escaping Completion) {
            self.request = request
            self.completion = completion
        }
    }

    /// At most this many connections on this loop: `Max-Connections` divided by the loops (at
    /// least one); no limit until OPTIONS names one.
    var connectionLimit: Int? { self.options?.maxConnections.map { max(1, $0 / self.loopCount) } }

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
        if let limit = self.connectionLimit, self.openConnections >= limit {
            self.wait(request, completion: completion)
            return
        }
        self.sendOnNewConnection(request, completion: completion)
    }

    /// Queues a request until a connection is free, for at most the read timeout.
    private func wait(_ request: ICAPClientRequest, completion: @escaping Completion) {
        let waiter = Waiter(request: request, completion: completion)
        self.waiters.append(waiter)
        let loopBound = NIOLoopBound((self, waiter), eventLoop: self.loop)
        waiter.timer = self.loop.scheduleTask(in: self.readTimeout) {
            let (this, waiter) = loopBound.value
            guard let index = this.waiters.firstIndex(where: { $0 === waiter }) else { return }
            this.waiters.remove(at: index)
            waiter.completion(.failure(.timeout))
        }
    }

    private func nextWaiter() -> Waiter? {
        guard !self.waiters.isEmpty else { return nil }
        let waiter = self.waiters.removeFirst()
        waiter.timer?.cancel()
        return waiter
    }

    /// A connection closed (or could not be opened): a waiting request may open one now.
    private func connectionGone() {
        self.openConnections -= 1
        while self.connectionLimit.map({ self.openConnections < $0 }) ?? true, let waiter = self.nextWaiter() {
            self.sendOnNewConnection(waiter.request, completion: waiter.completion)
        }
    }

    private func sendOnNewConnection(_ request: ICAPClientRequest, completion: @escaping Completion) {
        self.openConnections += 1
        let loopBound = NIOLoopBound((self, completion), eventLoop: self.loop)
        self.connect().whenComplete { result in
            let (this, completion) = loopBound.value
            switch result {
            case .success(let connection):
                let bound = NIOLoopBound(this, eventLoop: this.loop)
                connection.channel.closeFuture.whenComplete { _ in bound.value.connectionGone() }
                this.run(request, on: connection, completion: completion)
            case .failure(let error):
                completion(.failure(.connect("\(error)")))
                this.connectionGone()
            }
        }
    }

    private func run(_ request: ICAPClientRequest, on connection: Connection, completion: @escaping Completion) {
        connection.handler.run(request) { result in
            if case .success = result, connection.handler.isReusable, !self.isClosed {
                if let waiter = self.nextWaiter() {
                    // A request waited for a connection: this one is free now.
                    self.run(waiter.request, on: connection, completion: waiter.completion)
                } else if self.idle.count < self.maxIdle {
                    self.idle.append(connection)
                } else {
                    connection.channel.close(promise: nil)
                }
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
        while let waiter = self.nextWaiter() { waiter.completion(.failure(.closed)) }
    }
}

@available(*, unavailable)
extension ICAPServiceClient: Sendable {}
