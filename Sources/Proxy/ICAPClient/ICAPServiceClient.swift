import CoreMetrics
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
    typealias Connection = (channel: any Channel, handler: ICAPClientHandler)

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
    /// An OPTIONS request is in flight; `optionsWaiters` go on once it is answered (or fails).
    private var optionsInFlight = false
    private var optionsWaiters: [() -> Void] = []
    private var isClosed = false
    /// Connections open or being opened, idle ones included.
    private(set) var openConnections = 0
    /// Requests waiting for a connection while `connectionLimit` are open, oldest first.
    private var waiters = CircularBuffer<Waiter>()

    private final class Waiter {
        let ready: (Result<Lease, ICAPClientError>) -> Void
        var timer: Scheduled<Void>?

        init(ready: @escaping (Result<Lease, ICAPClientError>) -> Void) {
            self.ready = ready
        }
    }

    /// At most this many connections on this loop: `Max-Connections` divided by the loops (at
    /// least one); no limit until OPTIONS names one.
    var connectionLimit: Int? { self.options?.maxConnections.map { max(1, $0 / self.loopCount) } }

    init(
        configuration: ICAPServiceConfiguration, loop: any EventLoop, loopCount: Int, connectTimeout: TimeAmount,
        readTimeout: TimeAmount, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        let dimensions = [("service", configuration.name)]
        self.failures = Counter(label: "portcullis_icap_failures_total", dimensions: dimensions, factory: metrics)
        self.suspensions = Counter(label: "portcullis_icap_suspensions_total", dimensions: dimensions, factory: metrics)
        self.configuration = configuration
        self.loop = loop
        self.loopCount = max(1, loopCount)
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.logger = logger
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        self.hostHeader = "\(host):\(configuration.port)"
        self.url = configuration.url
        self.notes = ("\(configuration.name):204", "\(configuration.name):200-req", "\(configuration.name):200-res")
    }

    /// The `Host` header of every request to the service.
    let hostHeader: String
    /// The service's URL, the ICAP request target (made once: every request carries it).
    let url: String
    /// The access log notes of the common answers, made once.
    let notes: (unchanged: String, modifiedRequest: String, response: String)
    /// `portcullis_icap_failures_total{service}`: exchanges that failed (not counting those
    /// refused while suspended); `portcullis_icap_suspensions_total{service}`: times the
    /// breaker suspended the service.
    private let failures: Counter
    private let suspensions: Counter

    /// Body bytes to preview: the configured size, else what OPTIONS asked for.
    var previewSize: Int? { Self.previewSize(configured: self.configuration.preview, offered: self.options?.preview) }

    /// The configured preview, else the one a service's OPTIONS offer, at most
    /// `ICAPServiceConfiguration.maxPreview`: a preview is held in memory until the service
    /// answers, and a client may always send less than the service asks for (RFC 3507 §4.5).
    static func previewSize(configured: Int?, offered: Int?) -> Int? {
        configured ?? offered.map { min($0, ICAPServiceConfiguration.maxPreview) }
    }

    /// Sends `request` whole if the breaker lets it and gathers the answer; an answer other
    /// than 200 or 204 is a failure. A reused connection found closed before answering (the
    /// service timed it out as we sent) is retried once on a new one.
    func exchange(_ request: ICAPClientRequest, completion: @escaping Completion) {
        self.acquire(waitForOptions: request.head.method != .options) { acquired in
            switch acquired {
            case .failure(let error):
                // A suspension is the breaker's own answer, not another failure to count.
                if error != .suspended { self.noteFailure(error) }
                completion(.failure(error))
            case .success(let lease):
                self.run(request, on: lease.connection) { result in
                    if case .failure(let error) = result, error == .closed, lease.reused {
                        self.acquire(fresh: true) { again in
                            switch again {
                            case .failure(let error):
                                self.finish(.failure(error), completion: completion)
                            case .success(let lease):
                                self.run(request, on: lease.connection) { self.finish($0, completion: completion) }
                            }
                        }
                    } else {
                        self.finish(result, completion: completion)
                    }
                }
            }
        }
    }

    private func run(_ request: ICAPClientRequest, on connection: Connection, completion: @escaping Completion) {
        connection.handler.run(request) { result in
            self.release(connection)
            completion(result)
        }
    }

    private func finish(_ result: Result<ICAPClientResponse, ICAPClientError>, completion: Completion) {
        switch result {
        case .success(let response) where response.head.statusCode == 200 || response.head.statusCode == 204:
            self.noteSuccess(istag: response.head.istag)
            completion(.success(response))
        case .success(let response):
            self.noteFailure(.status(response.head.statusCode))
            completion(.failure(.status(response.head.statusCode)))
        case .failure(let error):
            self.noteFailure(error)
            completion(.failure(error))
        }
    }

    /// An exchange went well: the breaker closes, the ISTag is kept.
    func noteSuccess(istag: String?) {
        if let istag { self.istag = istag }
        self.note(self.breaker.recordSuccess())
    }

    /// An exchange failed: the breaker counts it, and so does the failure counter. The log
    /// line says why; the breaker bounds how many a dead service can cause.
    func noteFailure(_ error: ICAPClientError) {
        self.failures.increment()
        self.logger.notice(
            "ICAP service failed",
            metadata: ["icap.service": "\(self.configuration.name)", "error": "\(error)"])
        self.note(self.breaker.recordFailure(at: self.loop.now))
    }

    private func note(_ transition: ServiceCircuitBreaker.Transition) {
        switch transition {
        case .none:
            break
        case .suspended(let backoff):
            self.suspensions.increment()
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

    /// A connection lent for one exchange; give it back with `release` when the exchange ends.
    struct Lease {
        let connection: Connection
        /// It served an exchange before (it may have been closed by the service meanwhile).
        let reused: Bool
    }

    /// Lends an idle connection, or opens one (`fresh`: always), once the breaker lets a
    /// request through and the connection limit allows; waits for a free one at the limit,
    /// for at most the read timeout.
    func acquire(
        fresh: Bool = false, waitForOptions: Bool = true, _ ready: @escaping (Result<Lease, ICAPClientError>) -> Void
    ) {
        self.loop.preconditionInEventLoop()
        if waitForOptions && self.options == nil && self.optionsInFlight {
            // The first OPTIONS are on their way (at start): they say how large a preview the
            // service wants, so the first exchanges wait for them (as long as they take).
            self.optionsWaiters.append { self.acquire(fresh: fresh, waitForOptions: false, ready) }
            return
        }
        guard self.breaker.permitsRequest(at: self.loop.now) else {
            ready(.failure(.suspended))
            return
        }
        if !fresh {
            while let connection = self.idle.popLast() {
                if connection.handler.isReusable {
                    ready(.success(Lease(connection: connection, reused: true)))
                    return
                }
                connection.channel.close(promise: nil)
            }
        }
        if !fresh, let limit = self.connectionLimit, self.openConnections >= limit {
            self.wait(ready)
            return
        }
        self.openNew(ready)
    }

    /// Takes back a connection after its exchange: to a waiting request, to the idle list, or
    /// closed (not reusable, over the idle cap, or shutting down).
    func release(_ connection: Connection) {
        guard connection.handler.isReusable, !self.isClosed else {
            connection.channel.close(promise: nil)
            return
        }
        if let waiter = self.nextWaiter() {
            waiter.ready(.success(Lease(connection: connection, reused: true)))
        } else if self.idle.count < self.maxIdle {
            self.idle.append(connection)
        } else {
            connection.channel.close(promise: nil)
        }
    }

    /// Queues a request until a connection is free, for at most the read timeout.
    private func wait(_ ready: @escaping (Result<Lease, ICAPClientError>) -> Void) {
        let waiter = Waiter(ready: ready)
        self.waiters.append(waiter)
        let loopBound = NIOLoopBound((self, waiter), eventLoop: self.loop)
        waiter.timer = self.loop.scheduleTask(in: self.readTimeout) {
            let (this, waiter) = loopBound.value
            guard let index = this.waiters.firstIndex(where: { $0 === waiter }) else { return }
            this.waiters.remove(at: index)
            waiter.ready(.failure(.timeout))
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
            self.openNew(waiter.ready)
        }
    }

    private func openNew(_ ready: @escaping (Result<Lease, ICAPClientError>) -> Void) {
        self.openConnections += 1
        let loopBound = NIOLoopBound((self, ready), eventLoop: self.loop)
        self.connect().whenComplete { result in
            let (this, ready) = loopBound.value
            switch result {
            case .success(let connection):
                let bound = NIOLoopBound(this, eventLoop: this.loop)
                connection.channel.closeFuture.whenComplete { _ in bound.value.connectionGone() }
                ready(.success(Lease(connection: connection, reused: false)))
            case .failure(let error):
                this.connectionGone()
                ready(.failure(.connect("\(error)")))
            }
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
        let head = ICAPRequestHead(method: .options, uri: self.url, headers: headers)
        self.optionsInFlight = true
        self.exchange(ICAPClientRequest(head: head, heads: .none)) { result in
            self.optionsInFlight = false
            defer {
                let waiters = self.optionsWaiters
                self.optionsWaiters = []
                for waiter in waiters { waiter() }
            }
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
        while let waiter = self.nextWaiter() { waiter.ready(.failure(.closed)) }
    }
}

@available(*, unavailable)
extension ICAPServiceClient: Sendable {}
