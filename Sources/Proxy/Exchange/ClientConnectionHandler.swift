import Foundation
import ICAP
import Logging
import NIOCore
import NIOHTTP1
import Policy

/// The last handler of a client connection. It plans each request, drives the
/// `ExchangeStateMachine`, and carries out its actions: leasing origin connections, streaming
/// bodies with backpressure both ways, writing local pages, and turning into a tunnel.
final class ClientConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let environment: ProxyEnvironment
    private let pool: OriginPool
    private let accessLog: AccessLogBuffer
    private let policy: LoopPolicy
    /// This loop's remote REQMOD services, if any are configured.
    private let icapServices: ICAPServices?
    private let headGuard: RequestHeadGuardHandler
    private let logger: Logger
    private var machine: ExchangeStateMachine
    private var context: ChannelHandlerContext?

    private let clientAllowed: Bool
    private let clientIP: String
    private let clientAddress: IPAddress128?
    /// The head being adapted by the REQMOD services.
    private var adaptingHead: HTTPRequestHead?
    /// The REQMOD services a request body streams through, first (fed by the client) to last
    /// (feeding this handler); empty when the request has no body or is not adapted.
    private var requestStages: [REQMODStage] = []
    /// Whether the client's request body has ended (while it streams through `requestStages`).
    private var clientBodyEnded = false
    /// While the services wait for more of a streaming body: when the client last sent some,
    /// and the check that a stalled one gets a 408 (nothing else bounds a client that stalls
    /// before the request reaches an origin).
    private var clientBodyLastSeen = NIODeadline.now()
    private var clientBodyStallCheck: Scheduled<Void>?
    /// The policy's decision on the request in flight.
    private var policyOutcome: PolicyGate.Outcome?
    /// The RESPMOD services the response in flight streams through, first (fed by the origin)
    /// to last (feeding this handler); empty when the response is not adapted.
    private var responseStages: [RESPMODStage] = []
    /// While the response is adapted: whether the origin connection may be pooled once its
    /// own response has been read in full (and how that response is framed).
    private var originResponseReusable = false
    private var originResponseFraming = BodyFraming.none

    /// The origin connection of the exchange in flight.
    private var origin: (channel: any Channel, handler: OriginConnectionHandler, key: OriginPool.Key, reused: Bool)?
    private var pendingClientRead = false
    /// Framing state of the response being written to the client.
    private var serializer = ResponseSerializer()
    /// Framing state of the request body being sent to the origin.
    private var requestChunker = ChunkedEncoder()
    /// Writes are batched: each side is flushed once per read burst of the other side.
    private var clientNeedsFlush = false
    private var originNeedsFlush = false
    /// True between a client read and its read-complete, when flushes can wait for the latter.
    private var inClientReadBurst = false
    /// Request parts received while an earlier exchange was still in flight.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var closeWhenIdle = false
    /// The client sent EOF (half-close).
    private var clientInputClosed = false
    private var requestCounter = 0
    private var record = ExchangeRecord()

    init(
        environment: ProxyEnvironment, pool: OriginPool, accessLog: AccessLogBuffer, policy: LoopPolicy,
        icapServices: ICAPServices? = nil, headGuard: RequestHeadGuardHandler, clientAddress: SocketAddress?,
        logger: Logger
    ) {
        self.icapServices = icapServices?.isEmpty == false ? icapServices : nil
        self.environment = environment
        self.pool = pool
        self.accessLog = accessLog
        self.policy = policy
        self.headGuard = headGuard
        self.logger = logger
        self.machine = ExchangeStateMachine(
            maxRequestBodyBytes: environment.configuration.maxRequestBodyBytes,
            viaName: environment.configuration.viaName)
        self.clientAddress = clientAddress.flatMap { IPAddress128($0) }
        self.clientIP = self.clientAddress?.description ?? "-"
        self.clientAllowed =
            clientAddress.map { environment.configuration.allowedClients.contains(address: $0) } ?? false
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: inbound from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inClientReadBurst = true
        let part = Self.unwrapInboundIn(data)
        // HTTP/1.1 pipelining: a request that arrives while the previous one is still being
        // answered waits, in order, and reading pauses until it is taken up.
        if !self.pipelined.isEmpty || (!self.machine.isIdle && Self.isHead(part)) {
            self.pipelined.append(part)
            return
        }
        self.handle(part)
    }

    private static func isHead(_ part: HTTPServerRequestPart) -> Bool {
        if case .head = part { return true }
        return false
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            // A pipelined head already went past the guard while the last exchange ran: the
            // guard must know this one is being served, not awaited.
            self.headGuard.beginExchange()
            self.requestCounter += 1
            self.record = ExchangeRecord(head: head, client: self.clientIP)
            var disposition =
                self.clientAllowed
                ? self.environment.planner.plan(head, clientIP: self.clientIP)
                : .reject(.clientDenied, reason: "client \(self.clientIP) may not use this proxy", url: head.uri)
            // The policy decides every request the proxy would forward or tunnel.
            (disposition, self.policyOutcome) = PolicyGate.apply(
                disposition, client: self.clientAddress, snapshot: self.policy.snapshot, now: Date(),
                via: self.environment.planner.via.http11)
            self.record.policy = self.policyOutcome?.label
            // After a refusal the connection closes if unread bytes may follow: a body, or the
            // tunnel bytes a client sends right behind its CONNECT. (Only refusals ask.)
            var unreadBytesMayFollow = false
            if case .reject = disposition {
                unreadBytesMayFollow = !self.clientAllowed || head.method == .CONNECT || Self.mayHaveBody(head)
            }
            let adaptation = self.adaptation(for: disposition)
            self.clientBodyEnded = adaptation != .streamed
            if adaptation != .skip {
                self.adaptingHead = head
                // CONNECT: the bytes behind it are tunnel bytes, as in `openTunnel`.
                if head.method == .CONNECT { self.headGuard.holdForTunnel() }
            }
            self.perform(
                self.machine.requestHead(
                    disposition, unreadBytesMayFollow: unreadBytesMayFollow, adapt: adaptation != .skip))
        case .body(let buffer):
            if let first = self.requestStages.first, !self.clientBodyEnded {
                self.clientBodyLastSeen = .now()
                first.requestBody(buffer)
            } else {
                self.perform(self.machine.requestBody(buffer))
            }
        case .end:
            if let first = self.requestStages.first, !self.clientBodyEnded {
                self.clientBodyEnded = true
                first.requestEnd()
                return
            }
            if let plan = self.machine.planInFlight, plan.upgrade != nil {
                // What follows an upgrade request is the new protocol's, or nothing: keep it
                // (and an early EOF) from the HTTP decoder until the origin answers.
                self.headGuard.holdForTunnel()
            }
            self.perform(self.machine.requestEnd())
        }
    }

    /// Whether a refused request may still have body bytes on the wire (then the connection
    /// cannot be reused after the refusal).
    private static func mayHaveBody(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding")
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.inClientReadBurst = false
        if self.clientNeedsFlush {
            self.clientNeedsFlush = false
            context.flush()
        }
        if self.originNeedsFlush {
            self.originNeedsFlush = false
            self.origin?.handler.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if let last = self.responseStages.last { last.resume() } else { self.origin?.handler.resumeReading() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.endAdaptations()
        self.perform(self.machine.clientClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let page: LocalPage
        switch error {
        case is RequestHeadGuardHandler.HeadTooLarge:
            page = .headersTooLarge
        case let parserError as HTTPParserError where parserError == .headerOverflow:
            page = .headersTooLarge
        case is HTTPParserError:
            page = .badRequest
        default:
            context.close(promise: nil)
            return
        }
        // Only a connection that has not started answering can still get a page.
        guard self.machine.isIdle || self.isAwaitingResponseHead else {
            self.perform(self.machine.clientClosed())
            context.close(promise: nil)
            return
        }
        self.machine.requestFailed()
        self.abandonOrigin()
        self.record = ExchangeRecord(method: "NONE", url: "error:invalid-request", client: self.clientIP)
        self.writeLocalPage(page, reason: "\(error)", url: "", closeAfter: true)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is RequestHeadGuardHandler.HeaderTimeout:
            self.machine.requestFailed()
            self.record = ExchangeRecord(method: "NONE", url: "error:request-timeout", client: self.clientIP)
            self.writeLocalPage(
                .requestTimeout, reason: "the request head did not arrive in time", url: "", closeAfter: true)
        case is ChannelShouldQuiesceEvent:
            if self.machine.isIdle { context.close(promise: nil) } else { self.closeWhenIdle = true }
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed:
            // Remembered for a tunnel being set up, whose glue must pass the EOF on.
            self.clientInputClosed = true
            if self.machine.isIdle { context.close(promise: nil) } else { self.closeWhenIdle = true }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: outbound (backpressure on the client)

    func read(context: ChannelHandlerContext) {
        if self.mayReadClient {
            context.read()
        } else {
            self.pendingClientRead = true
        }
    }

    private var mayReadClient: Bool {
        if !self.pipelined.isEmpty { return false }
        if let first = self.requestStages.first, !self.clientBodyEnded { return first.mayTakeRequestBody }
        return self.machineMayReadClient
    }

    /// Whether the exchange in flight can take more of the client's bytes.
    private var machineMayReadClient: Bool {
        switch self.machine.state {
        case .idle, .answeredLocally, .closed:
            return true
        case .adapting(_, let requestComplete):
            // Adapted whole: a CONNECT or a bodiless request, whose end may still be read.
            // (A body streams to the services, gated by `requestStages` instead.)
            return !requestComplete
        case .connecting, .tunnelling:
            return false
        case .forwarding(_, let requestComplete, _):
            return requestComplete || (self.origin?.channel.isWritable ?? false)
        }
    }

    /// Takes up pipelined requests now that the connection is idle again.
    private func drainPipelined() {
        while let next = self.pipelined.first {
            if Self.isHead(next) && !self.machine.isIdle { return }
            self.handle(self.pipelined.removeFirst())
        }
    }

    private func resumeClientReadIfPossible() {
        guard self.pendingClientRead, self.mayReadClient, let context = self.context else { return }
        self.pendingClientRead = false
        context.read()
    }

    private var isAwaitingResponseHead: Bool {
        switch self.machine.state {
        case .adapting, .connecting, .forwarding(_, _, .awaitingHead): return true
        default: return false
        }
    }

    // MARK: actions

    private func perform(_ action: ExchangeStateMachine.Action) {
        guard let context = self.context else {
            if case .abort(let closeOrigin) = action, closeOrigin { self.abandonOrigin() }
            return
        }
        switch action {
        case .none:
            break
        case .adaptRequest:
            self.adaptRequest()
        case .connectOrigin(let plan, let fresh):
            self.connectOrigin(plan, fresh: fresh, context: context)
        case .connectTunnel(let target):
            self.openTunnel(to: target, context: context)
        case .respondLocally(let page, let reason, let url, let closeAfter):
            self.endAdaptations()
            self.abandonOrigin()
            self.writeLocalPage(page, reason: reason, url: url, closeAfter: closeAfter)
        case .answer(let head, let body, let closeAfter):
            self.endAdaptations()
            self.record.status = Int(head.status.code)
            self.record.action = "TCP_MISS"
            self.writeComplete(head: head, body: body, closeAfter: closeAfter)
        case .sendRequest(let plan, let body, let end):
            guard let origin = self.origin else { return }
            origin.handler.noteActivity()
            origin.handler.expectResponse(requestWasHEAD: plan.method == .HEAD)
            origin.handler.write(OriginRequestSerializer.head(plan, allocator: context.channel.allocator))
            self.requestChunker.begin(chunked: plan.requestFraming == .chunked)
            for buffer in body { self.sendBodyPart(buffer, to: origin.handler, allocator: context.channel.allocator) }
            if end, let last = self.requestChunker.end(allocator: context.channel.allocator) {
                origin.handler.write(last)
            }
            self.flushOrigin(origin.handler)
            // The body still to come flows now: from the client, or from the services.
            self.requestStages.last?.resume()
            self.resumeClientReadIfPossible()
        case .sendBody(let buffer):
            guard let origin = self.origin else { return }
            // An upload in progress is activity: the origin is not silent, it is listening.
            origin.handler.noteActivity()
            self.sendBodyPart(buffer, to: origin.handler, allocator: context.channel.allocator)
            self.flushOrigin(origin.handler)
        case .sendEnd:
            guard let origin = self.origin else { return }
            if let last = self.requestChunker.end(allocator: context.channel.allocator) { origin.handler.write(last) }
            self.flushOrigin(origin.handler)
        case .writeInformational(let plan):
            // HTTP/1.0 clients know nothing of 1xx responses.
            if self.record.clientVersion.minor >= 1 {
                context.writeAndFlush(
                    Self.wrapOutboundOut(ResponseSerializer.encode(plan, allocator: context.channel.allocator)),
                    promise: nil)
            }
        case .writeResponseHead(let plan):
            self.record.status = plan.head.status
            self.record.contentType = plan.head.fields.contentType
            self.clientNeedsFlush = true
            switch plan.originFraming {
            case .chunked, .untilClose: self.origin?.handler.setBulkReads(true)
            case .contentLength(let length) where length > 256 * 1024: self.origin?.handler.setBulkReads(true)
            default: break
            }
            let bytes = self.serializer.head(plan, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(bytes), promise: nil)
        case .writeResponseBody(let buffer):
            self.record.bytes += buffer.readableBytes
            self.clientNeedsFlush = true
            if let prefix = self.serializer.chunkPrefix(for: buffer, allocator: context.channel.allocator) {
                context.write(Self.wrapOutboundOut(prefix), promise: nil)
            }
            context.write(Self.wrapOutboundOut(buffer), promise: nil)
        case .finishResponse(let reuseOrigin, let keepClient):
            self.finishResponse(reuseOrigin: reuseOrigin, keepClient: keepClient, context: context)
        case .switchToTunnel(let plan):
            self.switchProtocols(plan, context: context)
        case .localExchangeComplete:
            if self.closeWhenIdle {
                context.close(promise: nil)
            } else {
                self.headGuard.awaitNextHead()
                self.drainPipelined()
                self.resumeClientReadIfPossible()
            }
        case .abort(let closeOrigin):
            self.endAdaptations()
            if closeOrigin { self.abandonOrigin() }
            self.logExchange(action: "TCP_MISS_ABORTED")
            // What was already received goes out before the close that tells the client the
            // response is cut short (its framing cannot complete).
            context.flush()
            context.close(promise: nil)
        }
    }

    private func sendBodyPart(_ buffer: ByteBuffer, to origin: OriginConnectionHandler, allocator: ByteBufferAllocator)
    {
        if let prefix = self.requestChunker.prefix(for: buffer, allocator: allocator) { origin.write(prefix) }
        origin.write(buffer)
    }

    /// Flushes now, or at the end of the client read burst in progress.
    private func flushOrigin(_ origin: OriginConnectionHandler) {
        if self.inClientReadBurst {
            self.originNeedsFlush = true
        } else {
            origin.flush()
        }
    }

    private func connectOrigin(_ plan: ForwardPlan, fresh: Bool, context: ChannelHandlerContext) {
        self.record.action = "TCP_MISS"
        let key = OriginPool.Key(host: plan.connectHost, port: plan.connectPort)
        if !fresh, let (channel, handler) = self.pool.lease(key) {
            self.attachOrigin(channel: channel, handler: handler, key: key, reused: true)
            self.perform(self.machine.originConnected())
            return
        }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.environment.connector.connectHTTP(
            host: plan.connectHost, port: plan.connectPort, on: context.eventLoop,
            readTimeout: self.environment.configuration.originReadTimeout
        ).whenComplete { result in
            let this = loopBound.value
            switch result {
            case .success(let channel):
                guard this.context != nil, case .connecting = this.machine.state,
                    let handler = try? channel.pipeline.syncOperations.handler(type: OriginConnectionHandler.self)
                else {
                    channel.close(promise: nil)
                    return
                }
                this.attachOrigin(channel: channel, handler: handler, key: key, reused: false)
                this.perform(this.machine.originConnected())
            case .failure(let error):
                let connectError =
                    error as? OriginConnectError ?? OriginConnectError(kind: .unreachable, detail: "\(error)")
                this.perform(this.machine.originConnectFailed(connectError))
            }
        }
    }

    private func attachOrigin(channel: any Channel, handler: OriginConnectionHandler, key: OriginPool.Key, reused: Bool)
    {
        self.origin = (channel, handler, key, reused)
        self.record.peer = channel.remoteAddress.flatMap { IPAddress128($0)?.description }
        handler.delegate = self
    }

    /// Drops the origin connection of the exchange in flight (it is in an unknown state).
    private func abandonOrigin() {
        guard let origin = self.origin else { return }
        self.origin = nil
        origin.handler.delegate = nil
        origin.channel.close(promise: nil)
    }

    private func finishResponse(reuseOrigin: Bool, keepClient: Bool, context: ChannelHandlerContext) {
        // An adapted response can end before the origin's (a block page for a download): an
        // origin still attached then is mid-response, and goes.
        let reuseOrigin = reuseOrigin && self.responseStages.isEmpty
        // A response that ends before the client's body did (the origin did not wait for it):
        // the rest of the body is still on its way, so the connection cannot carry another request.
        let keepClient = keepClient && self.clientBodyEnded
        self.endAdaptations()
        if let origin = self.origin {
            self.origin = nil
            origin.handler.delegate = nil
            if reuseOrigin {
                self.pool.release(origin.channel, handler: origin.handler, key: origin.key)
            } else {
                origin.channel.close(promise: nil)
            }
        }
        self.logExchange(action: nil)
        self.clientNeedsFlush = false
        let last = self.serializer.end(allocator: context.channel.allocator)
        if keepClient && !self.closeWhenIdle {
            if let last { context.write(Self.wrapOutboundOut(last), promise: nil) }
            context.flush()
            self.headGuard.awaitNextHead()
            self.drainPipelined()
            self.resumeClientReadIfPossible()
        } else {
            // Closed once the response is out (an empty write marks the end of the queue).
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(last ?? channel.allocator.buffer(capacity: 0)))
                .whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: local answers

    private func writeLocalPage(_ page: LocalPage, reason: String, url: String, closeAfter: Bool) {
        guard let context = self.context else { return }
        let requestID = "\(self.clientIP)-\(ObjectIdentifier(self).hashValue & 0xFFFF_FFFF)-\(self.requestCounter)"
        var values = PageValues(
            status: 0, title: "", reason: reason, url: url, client: self.clientIP, requestID: requestID)
        var snapshot = self.policy.snapshot
        if let outcome = self.policyOutcome, outcome.decision.isBlocked {
            outcome.blockPageValues(&values)
            snapshot = outcome.snapshot
        }
        let (head, body) = self.environment.localResponse(
            page, values: values, snapshot: snapshot, closeAfter: closeAfter, allocator: context.channel.allocator)
        self.record.status = Int(page.status.code)
        self.record.action = page.status == .forbidden ? "TCP_DENIED" : "NONE_NONE"
        self.record.contentType = "text/html"
        self.writeComplete(head: head, body: body, closeAfter: closeAfter)
    }

    private func writeComplete(head: HTTPResponseHead, body: ByteBuffer, closeAfter: Bool) {
        guard let context = self.context else { return }
        self.record.bytes += body.readableBytes
        self.logExchange(action: nil)
        var bytes = ResponseSerializer.encode(head, allocator: context.channel.allocator)
        if self.record.method != "HEAD" { bytes.writeImmutableBuffer(body) }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(bytes)).whenComplete { _ in
            let this = loopBound.value
            if closeAfter {
                channel.close(promise: nil)
                return
            }
            this.perform(this.machine.localResponseWritten())
        }
    }

    // MARK: remote REQMOD services

    enum Adaptation {
        case skip
        /// Ask the services about the head, whole: a bodiless request, or a CONNECT.
        case now
        /// Stream the request's body through the services (`REQMODStage`s).
        case streamed
    }

    /// Whether and how the REQMOD services see this request: an allowed request without a
    /// body, and a CONNECT, whole and at once; one with a body streams through them.
    private func adaptation(for disposition: RequestDisposition) -> Adaptation {
        guard let services = self.icapServices, !services.clients.isEmpty else { return .skip }
        switch disposition {
        case .tunnel:
            return .now
        case .forward(let plan):
            guard plan.upgrade == nil else { return .skip }
            switch plan.requestFraming {
            case .none, .contentLength(0): return .now
            default: return .streamed
            }
        case .reject, .answer:
            return .skip
        }
    }

    private func adaptRequest() {
        guard let services = self.icapServices, let head = self.adaptingHead else { return }
        if !self.clientBodyEnded {
            self.startRequestStages(head, services: services)
            return
        }
        services.adaptRequest(head, body: nil, clientIP: self.clientIP) { outcome, note in
            self.adaptationDone(outcome, note: note, original: head)
        }
    }

    private func adaptationDone(_ outcome: REQMODChain.Outcome, note: String, original: HTTPRequestHead) {
        self.adaptingHead = nil
        self.addPolicyNote(note)
        let isConnect = original.method == .CONNECT
        var replacement: RequestDisposition?
        var newBody: [ByteBuffer]?
        switch outcome {
        case .forward(_, _, modified: false):
            replacement = nil
        case .forward(var head, let body, modified: true):
            if let body {
                // The service's body is sent whole: its length is what it is now.
                head.headers.remove(name: "Transfer-Encoding")
                head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
                newBody = body.readableBytes > 0 ? [body] : []
            }
            replacement = self.replan(head, original: original)
        case .respond(let head, let body):
            replacement = .answer(
                Self.satisfactionHead(
                    head, contentLength: body.readableBytes, via: "1.1 \(self.environment.configuration.viaName)",
                    close: isConnect),
                body: body)
        case .fail(let error, let service):
            replacement = .reject(
                .serviceUnavailable, reason: "ICAP service \(service): \(error)", url: original.uri)
        }
        self.perform(self.machine.adaptationFinished(replacement, body: newBody, unreadBytesMayFollow: isConnect))
    }

    /// A request a service changed is planned and decided like one from the client.
    private func replan(_ head: HTTPRequestHead, original: HTTPRequestHead) -> RequestDisposition {
        guard (head.method == .CONNECT) == (original.method == .CONNECT) else {
            return .reject(
                .serviceUnavailable, reason: "an ICAP service changed a CONNECT into another method or back",
                url: original.uri)
        }
        var disposition = self.environment.planner.plan(head, clientIP: self.clientIP)
        let decided: PolicyGate.Outcome?
        (disposition, decided) = PolicyGate.apply(
            disposition, client: self.clientAddress, snapshot: self.policy.snapshot, now: Date(),
            via: self.environment.planner.via.http11)
        if let decided { self.policyOutcome = decided }
        return disposition
    }

    /// Sends the request's body through the REQMOD services, chained.
    private func startRequestStages(_ head: HTTPRequestHead, services: ICAPServices) {
        var downstream: any RequestStreamSink = self
        var stages: [REQMODStage] = []
        for client in services.clients.reversed() {
            let stage = REQMODStage(client: client, downstream: downstream, clientIP: self.clientIP)
            stages.insert(stage, at: 0)
            downstream = stage
        }
        for (index, stage) in stages.enumerated() {
            if index == 0 {
                stage.resumeUpstream = { [weak self] in self?.resumeClientReadIfPossible() }
            } else {
                let previous = stages[index - 1]
                stage.resumeUpstream = { [weak previous] in previous?.resume() }
            }
        }
        self.requestStages = stages
        self.clientBodyLastSeen = .now()
        self.scheduleClientBodyStallCheck(in: self.environment.configuration.headerTimeout)
        stages[0].requestHead(head, modified: false, hasBody: true)
    }

    /// A client whose body stops while the services still wait for it (for their preview)
    /// gets a 408 once `header-timeout` passes without a byte; the connection closes.
    private func scheduleClientBodyStallCheck(in delay: TimeAmount) {
        guard let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.clientBodyStallCheck = context.eventLoop.scheduleTask(in: delay) {
            let this = loopBound.value
            this.clientBodyStallCheck = nil
            guard case .adapting = this.machine.state, let first = this.requestStages.first, !this.clientBodyEnded
            else { return }
            let timeout = this.environment.configuration.headerTimeout
            let quietFor = NIODeadline.now() - this.clientBodyLastSeen
            // Only silence while the services are waiting on the client counts.
            guard first.mayTakeRequestBody, quietFor >= timeout else {
                this.scheduleClientBodyStallCheck(in: quietFor >= timeout ? timeout : timeout - quietFor)
                return
            }
            this.machine.requestFailed()
            this.endAdaptations()
            this.writeLocalPage(
                .requestTimeout, reason: "the request body stopped arriving", url: this.record.url, closeAfter: true)
        }
    }

    /// The services of the exchange are done with (or given up): their notes go to the access
    /// log and any ICAP exchange still running is abandoned.
    private func endAdaptations() {
        self.clientBodyStallCheck?.cancel()
        self.clientBodyStallCheck = nil
        let (requestStages, responseStages) = (self.requestStages, self.responseStages)
        self.requestStages = []
        self.responseStages = []
        let notes = requestStages.compactMap(\.note) + responseStages.compactMap(\.note)
        if !notes.isEmpty { self.addPolicyNote("icap=" + notes.joined(separator: ",")) }
        for stage in requestStages { stage.cancel() }
        for stage in responseStages { stage.cancel() }
    }

    /// Adds to the access log's eleventh field (the policy's verdict, the services' notes).
    private func addPolicyNote(_ note: String) {
        self.record.policy = (self.record.policy.map { $0 + "," } ?? "") + note
    }

    /// The head of a response an ICAP service answered with (request satisfaction), framed
    /// by this proxy: its body is sent whole with a `Content-Length`.
    private static func satisfactionHead(
        _ head: HTTPResponseHead, contentLength: Int, via: String, close: Bool
    ) -> HTTPResponseHead {
        var headers = head.headers
        for name in ["Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive", "Proxy-Connection"] {
            headers.remove(name: name)
        }
        headers.add(name: "Content-Length", value: String(contentLength))
        headers.add(name: "Via", value: via)
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
    }

    // MARK: tunnels

    private func openTunnel(to target: RequestTarget, context: ChannelHandlerContext) {
        // From here on the client's bytes are tunnel bytes: the guard keeps them (and an early
        // EOF) away from the HTTP decoder until the tunnel takes over.
        self.headGuard.holdForTunnel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.environment.connector.connectRaw(host: target.host, port: target.port, on: context.eventLoop)
            .whenComplete { result in
                let this = loopBound.value
                switch result {
                case .success(let originChannel):
                    guard let context = this.context else {
                        originChannel.close(promise: nil)
                        return
                    }
                    this.record.action = "TCP_TUNNEL"
                    this.record.status = 200
                    this.record.peer = originChannel.remoteAddress.flatMap { IPAddress128($0)?.description }
                    var headers = HTTPHeaders()
                    headers.add(name: "Via", value: "1.1 \(this.environment.configuration.viaName)")
                    let head = HTTPResponseHead(
                        version: .http1_1, status: .custom(code: 200, reasonPhrase: "Connection established"),
                        headers: headers)
                    context.writeAndFlush(
                        Self.wrapOutboundOut(ResponseSerializer.encode(head, allocator: context.channel.allocator)),
                        promise: nil)
                    this.splice(client: context, origin: originChannel, originHandlersToRemove: [])
                case .failure(let error):
                    let connectError =
                        error as? OriginConnectError ?? OriginConnectError(kind: .unreachable, detail: "\(error)")
                    this.writeLocalPage(
                        connectError.page, reason: connectError.detail, url: target.hostHeader, closeAfter: true)
                }
            }
    }

    private func switchProtocols(_ plan: ResponsePlan, context: ChannelHandlerContext) {
        self.record.status = 101
        self.record.action = "TCP_TUNNEL"
        context.writeAndFlush(
            Self.wrapOutboundOut(ResponseSerializer.encode(plan, allocator: context.channel.allocator)), promise: nil)
        guard let origin = self.origin else { return }
        self.origin = nil
        self.headGuard.holdForTunnel()
        // Splice once the origin handler's current read is done (it is delivering the 101 now).
        // Until then it keeps its delegate (the machine, now tunnelling, ignores what arrives).
        let loopBound = NIOLoopBound((self, origin.channel, origin.handler), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (this, originChannel, originHandler) = loopBound.value
            guard let context = this.context else {
                originChannel.close(promise: nil)
                return
            }
            this.splice(client: context, origin: originChannel, originHandlersToRemove: [originHandler])
        }
    }

    /// Turns both connections into a byte tunnel: the glue handlers go in first, then the HTTP
    /// handlers come out, decoders last so the bytes they still hold reach the glue.
    private func splice(
        client context: ChannelHandlerContext, origin: any Channel, originHandlersToRemove: [OriginConnectionHandler]
    ) {
        let clientChannel = context.channel
        let start = self.record
        let accessLog = self.accessLog
        do {
            let tunnel = try Tunnel.splice(
                client: clientChannel, origin: origin, idleTimeout: self.environment.configuration.tunnelIdleTimeout
            ) { tunnel in
                var record = start
                record.bytes = tunnel.bytesToClient
                accessLog.record(record.entry(action: nil))
            }
            // The HTTP handlers leave; decoders last, handing the bytes they hold to the glue.
            // Decoder removals may complete later: once all are done, the bytes the guard held
            // back (they came after the decoder's) follow, the guard leaves, and the tunnel
            // starts moving bytes.
            let clientPipeline = clientChannel.pipeline.syncOperations
            var removals = [
                clientPipeline.removeHandler(context: context),
                clientPipeline.removeHandler(
                    context: try clientPipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)),
            ]
            let originPipeline = origin.pipeline.syncOperations
            for handler in originHandlersToRemove {
                // The origin handler hands the bytes behind the 101 to the glue as it leaves.
                removals.append(originPipeline.removeHandler(context: try originPipeline.context(handler: handler)))
            }
            let earlierEOF = self.clientInputClosed
            let loopBound = NIOLoopBound((tunnel, self.logger, self.headGuard), eventLoop: clientChannel.eventLoop)
            EventLoopFuture.andAllSucceed(removals, on: clientChannel.eventLoop).whenComplete { result in
                let (tunnel, logger, headGuard) = loopBound.value
                switch result {
                case .success:
                    let (held, eof) = headGuard.takeTunnelHold()
                    tunnel.send(held, fromClient: true)
                    _ = clientChannel.pipeline.syncOperations.removeHandler(headGuard)
                    tunnel.activate(clientInputClosed: earlierEOF || eof)
                case .failure(let error):
                    logger.debug("tunnel setup failed", metadata: ["error": "\(error)"])
                    tunnel.abort()
                }
            }
        } catch {
            self.logger.debug("tunnel setup failed", metadata: ["error": "\(error)"])
            origin.close(promise: nil)
            clientChannel.close(promise: nil)
        }
    }

    // MARK: access log

    private func logExchange(action: String?) {
        guard !self.record.logged else { return }
        self.record.logged = true
        self.accessLog.record(self.record.entry(action: action))
    }
}

extension ClientConnectionHandler: OriginConnectionDelegate {
    func originReceived(_ event: OriginResponseEvent) {
        switch event {
        case .informational(let head):
            self.perform(self.machine.responseHead(head))
        case .head(let head):
            if !self.startResponseAdaptation(head) { self.perform(self.machine.responseHead(head)) }
        case .body(let buffer):
            if let first = self.responseStages.first {
                first.streamBody(buffer)
            } else {
                self.perform(self.machine.responseBody(buffer))
            }
        case .end:
            if let first = self.responseStages.first {
                self.releaseOriginAfterItsResponse()
                first.streamEnd()
            } else {
                self.perform(self.machine.responseEnd())
            }
        }
    }

    func originReadComplete() {
        guard self.clientNeedsFlush else { return }
        self.clientNeedsFlush = false
        self.context?.flush()
    }

    func originWritabilityChanged(isWritable: Bool) {
        guard isWritable else { return }
        self.requestStages.last?.resume()
        self.resumeClientReadIfPossible()
    }

    func originEnded(error: (any Error)?) {
        let reused = self.origin?.reused ?? false
        self.origin = nil
        if let first = self.responseStages.first {
            if error == nil && self.originResponseFraming == .untilClose {
                first.streamEnd()
            } else {
                first.streamFailed(error.map { "the origin failed mid-response: \($0)" } ?? "the origin closed mid-response")
            }
            return
        }
        // A reused connection the origin closed or reset as the request went out (the
        // keep-alive race): nothing of a response came back, so the request may go again.
        let stale = error == nil || error is IOError || error is ChannelError
        if reused && stale {
            let retry = self.machine.retryOnFreshConnection()
            if case .connectOrigin = retry {
                self.perform(retry)
                return
            }
        }
        self.perform(self.machine.originEnded(error: error))
    }

    var mayReadOrigin: Bool {
        self.responseStages.first?.mayTakeResponseBody ?? (self.context?.channel.isWritable ?? false)
    }
}

// MARK: remote RESPMOD services

extension ClientConnectionHandler: RequestStreamSink {
    func requestHead(_ head: HTTPRequestHead, modified: Bool, hasBody: Bool) {
        guard let original = self.adaptingHead else { return }
        self.adaptingHead = nil
        let replacement = modified ? self.replan(head, original: original) : nil
        self.perform(self.machine.adaptationFinished(replacement, body: [], unreadBytesMayFollow: false))
    }

    func requestBody(_ buffer: ByteBuffer) {
        self.perform(self.machine.requestBody(buffer))
    }

    func requestEnd() {
        self.perform(self.machine.requestEnd())
    }

    func requestSatisfied(_ head: HTTPResponseHead, body: ByteBuffer) {
        self.adaptingHead = nil
        let answer = RequestDisposition.answer(
            Self.satisfactionHead(
                head, contentLength: body.readableBytes, via: "1.1 \(self.environment.configuration.viaName)",
                close: false),
            body: body)
        self.perform(self.machine.adaptationFinished(answer, unreadBytesMayFollow: !self.clientBodyEnded))
        // The body went to the service, not through the machine: its end is noted here.
        if self.clientBodyEnded { self.perform(self.machine.requestEnd()) }
    }

    func requestFailed(_ reason: String) {
        self.adaptingHead = nil
        self.perform(self.machine.requestAdaptationFailed(reason: reason, unreadBytesMayFollow: !self.clientBodyEnded))
        if self.clientBodyEnded { self.perform(self.machine.requestEnd()) }
    }

    var mayTakeRequestBody: Bool { self.machineMayReadClient }
}

extension ClientConnectionHandler: ResponseStreamSink {
    /// Sends the origin's response through the RESPMOD services, if any are configured and it
    /// is a response they can see (not a 101 switch, and only to a forwarded request).
    fileprivate func startResponseAdaptation(_ head: OriginResponseHead) -> Bool {
        guard let services = self.icapServices, !services.responseClients.isEmpty, head.status != 101,
            case .forwarding(let plan, _, .awaitingHead) = self.machine.state
        else { return false }
        let requestWasHEAD = plan.method == .HEAD
        self.originResponseFraming = head.fields.responseFraming(status: head.status, requestWasHEAD: requestWasHEAD)
        self.originResponseReusable =
            head.fields.wantsKeepAlive(minorVersion: head.minorVersion) && self.originResponseFraming != .untilClose
        var downstream: any ResponseStreamSink = self
        var stages: [RESPMODStage] = []
        for client in services.responseClients.reversed() {
            let stage = RESPMODStage(
                client: client, downstream: downstream, request: plan.clientHead, requestWasHEAD: requestWasHEAD,
                clientIP: self.clientIP)
            stages.insert(stage, at: 0)
            downstream = stage
        }
        for (index, stage) in stages.enumerated() {
            if index == 0 {
                stage.resumeUpstream = { [weak self] in self?.origin?.handler.resumeReading() }
                stage.dropUpstream = { [weak self] in self?.abandonOrigin() }
            } else {
                let previous = stages[index - 1]
                stage.resumeUpstream = { [weak previous] in previous?.resume() }
                stage.dropUpstream = { [weak previous] in previous?.outputNotNeeded() }
            }
        }
        self.responseStages = stages
        stages[0].streamHead(head)
        return true
    }

    /// The origin's own response is read in full while the services still work on it: the
    /// origin connection goes back to the pool (or closes) now.
    private func releaseOriginAfterItsResponse() {
        guard let origin = self.origin else { return }
        self.origin = nil
        origin.handler.delegate = nil
        var requestComplete = false
        if case .forwarding(_, let complete, _) = self.machine.state { requestComplete = complete }
        if self.originResponseReusable && requestComplete {
            self.pool.release(origin.channel, handler: origin.handler, key: origin.key)
        } else {
            origin.channel.close(promise: nil)
        }
    }

    func streamHead(_ head: OriginResponseHead) {
        self.perform(self.machine.responseHead(head))
        self.flushClientNow()
    }

    func streamBody(_ buffer: ByteBuffer) {
        self.perform(self.machine.responseBody(buffer))
        self.flushClientNow()
    }

    func streamEnd() {
        self.perform(self.machine.responseEnd())
    }

    func streamFailed(_ reason: String) {
        self.logger.debug("ICAP RESPMOD failed", metadata: ["reason": "\(reason)"])
        self.perform(self.machine.responseAdaptationFailed(reason: reason))
    }

    var mayTakeResponseBody: Bool { self.context?.channel.isWritable ?? false }

    /// What an ICAP service sent arrives outside the origin's and the client's read bursts:
    /// nothing else would flush it.
    private func flushClientNow() {
        guard self.clientNeedsFlush, let context = self.context else { return }
        self.clientNeedsFlush = false
        context.flush()
    }
}

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}
