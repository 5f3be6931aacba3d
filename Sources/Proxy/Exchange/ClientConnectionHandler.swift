import Foundation
import ICAP
import Logging
import NIOCore
import NIOHTTP1
import Policy

/// The last handler of a client connection. It plans each request, drives the
/// `ExchangeStateMachine`, and carries out its actions: leasing origin connections, streaming
/// bodies with backpressure both ways, writing local pages, and turning into a tunnel.
///
/// One type in five files: this one (requests, actions, origins, local answers), `+REQMOD`
/// and `+RESPMOD` (the remote ICAP services), `+Tunnel` (CONNECT and protocol switches),
/// `+Waiting` (the idle and header timeouts between exchanges). Its
/// members are internal so those files can share them; nothing outside the type uses them.
final class ClientConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let environment: ProxyEnvironment
    let pool: OriginPool
    let accessLog: AccessLogBuffer
    let policy: LoopPolicy
    /// This loop's remote REQMOD services, if any are configured.
    let icapServices: ICAPServices?
    let logger: Logger
    var machine: ExchangeStateMachine
    var context: ChannelHandlerContext?
    /// The event loop's clock, which its timers read (a test's loop moves it by hand).
    var loopNow: NIODeadline { self.context?.eventLoop.now ?? .now() }
    /// The channel's allocator, read once (`context.channel.allocator` goes through the
    /// pipeline and the channel's existential on every use).
    var allocator = ByteBufferAllocator()

    let clientAllowed: Bool
    let clientIP: String
    let clientAddress: IPAddress128?
    /// The head being adapted by the REQMOD services.
    var adaptingHead: HTTPRequestHead?
    /// The REQMOD services a request body streams through, first (fed by the client) to last
    /// (feeding this handler); empty when the request has no body or is not adapted.
    var requestStages: [REQMODStage] = []
    /// Whether the client's request body has ended (while it streams through `requestStages`).
    var clientBodyEnded = false
    /// The proxy answered the request's `Expect: 100-continue` itself (see `startRequestStages`).
    var sentContinue = false
    /// While the services wait for more of a streaming body: when the client last sent some,
    /// and the check that a stalled one gets a 408 (nothing else bounds a client that stalls
    /// before the request reaches an origin).
    var clientBodyLastSeen = NIODeadline.now()
    var clientBodyStallCheck: Scheduled<Void>?
    /// The policy's decision on the request in flight.
    var policyOutcome: PolicyGate.Outcome?
    /// The RESPMOD services the response in flight streams through, first (fed by the origin)
    /// to last (feeding this handler); empty when the response is not adapted.
    var responseStages: [RESPMODStage] = []
    /// While the response is adapted: whether the origin connection may be pooled once its
    /// own response has been read in full (and how that response is framed).
    var originResponseReusable = false
    var originResponseFraming = BodyFraming.none

    /// The origin connection of the exchange in flight.
    var origin: (channel: any Channel, handler: OriginConnectionHandler, key: OriginPool.Key, reused: Bool)?
    var pendingClientRead = false
    /// Framing state of the response being written to the client.
    var serializer = ResponseSerializer()
    /// Framing state of the request body being sent to the origin.
    var requestChunker = ChunkedEncoder()
    /// A small response's head, held while its body arrives from the same origin read, so head
    /// and body go to the client as one write. Written before anything else happens.
    var heldResponse: ByteBuffer?
    /// Held responses are written into the same storage each time, once the last one is out.
    var responseBuffer = ReusableWriteBuffer()
    /// Writes are batched: each side is flushed once per read burst of the other side.
    var clientNeedsFlush = false
    var originNeedsFlush = false
    /// True between a client read and its read-complete, when flushes can wait for the latter.
    var inClientReadBurst = false
    /// Parses the client's bytes in place: no HTTP codec handler in front of this one.
    var requestParser: ClientRequestParser
    /// Client bytes not parsed yet: part of a head or chunk line, or (after CONNECT or a
    /// protocol switch) the tunnel's first bytes, handed on when this handler leaves.
    var unparsedClientBytes = UnparsedBytes()
    /// Request parts received while an earlier exchange was still in flight.
    var pipelined = CircularBuffer<ClientRequestEvent>()
    var closeWhenIdle = false
    /// The client sent EOF (half-close).
    var clientInputClosed = false
    var requestCounter = 0
    var record = ExchangeRecord()
    /// The log's and the policy's wall clock, read from the loop's clock.
    var wallClock = WallClock()
    /// Between exchanges: the next request or the rest of a head is awaited, until when.
    var wait: ClientWait
    var waitCheck: Scheduled<Void>?

    init(
        environment: ProxyEnvironment, pool: OriginPool, accessLog: AccessLogBuffer, policy: LoopPolicy,
        icapServices: ICAPServices? = nil, clientAddress: SocketAddress?, logger: Logger
    ) {
        self.icapServices = icapServices?.isEmpty == false ? icapServices : nil
        self.environment = environment
        self.pool = pool
        self.accessLog = accessLog
        self.policy = policy
        self.logger = logger
        self.requestParser = ClientRequestParser(maxHeadBytes: environment.configuration.maxHeaderBytes)
        self.wait = ClientWait(
            idleTimeout: environment.configuration.idleTimeout, headerTimeout: environment.configuration.headerTimeout)
        self.machine = ExchangeStateMachine(
            maxRequestBodyBytes: environment.configuration.maxRequestBodyBytes,
            viaName: environment.configuration.viaName)
        self.clientAddress = clientAddress.flatMap { IPAddress128($0) }
        self.clientIP = self.clientAddress?.description ?? "-"
        self.clientAllowed =
            clientAddress.map { environment.configuration.allowedClients.contains(address: $0) } ?? false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.allocator = context.channel.allocator
        self.awaitRequest()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelWaitCheck()
        self.context = nil
    }

    /// Leaving for a tunnel: the bytes behind the CONNECT or the switch go on to the glue.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if let bytes = self.unparsedClientBytes.take() {
            context.fireChannelRead(ClientConnectionHandler.wrapInboundOut(bytes))
        }
        context.leavePipeline(removalToken: removalToken)
    }

    // MARK: inbound from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inClientReadBurst = true
        if case .failed = self.requestParser.state { return }
        var buffer = self.unparsedClientBytes.prepended(to: ClientConnectionHandler.unwrapInboundIn(data))
        do {
            while let event = try self.requestParser.next(&buffer) {
                self.receive(event)
            }
        } catch {
            self.refuseMalformedRequest(
                error.isHeadTooLarge ? .headersTooLarge : .badRequest, reason: error.description, context: context)
            return
        }
        self.unparsedClientBytes.keep(buffer)
        self.noteHeadBegunIfAny()
    }

    private func receive(_ event: ClientRequestEvent) {
        // HTTP/1.1 pipelining: a request that arrives while the previous one is still being
        // answered waits, in order, and reading pauses until it is taken up.
        if !self.pipelined.isEmpty || (!self.machine.isIdle && Self.isHead(event)) {
            self.pipelined.append(event)
            return
        }
        self.handle(event)
    }

    static func isHead(_ event: ClientRequestEvent) -> Bool {
        if case .head = event { return true }
        return false
    }

    func handle(_ event: ClientRequestEvent) {
        switch event {
        case .head(let head):
            self.wait.exchangeStarted()
            self.requestCounter += 1
            self.sentContinue = false
            let now = self.loopNow
            self.record = ExchangeRecord(
                head: head, client: self.clientIP, start: now, startMillis: self.wallClock.millis(at: now))
            var disposition =
                self.clientAllowed
                ? self.environment.planner.plan(head, clientIP: self.clientIP)
                : .reject(.clientDenied, reason: "client \(self.clientIP) may not use this proxy", url: head.uri)
            // The policy decides every request the proxy would forward or tunnel.
            (disposition, self.policyOutcome) = PolicyGate.apply(
                disposition, client: self.clientAddress, snapshot: self.policy.snapshot, now: self.record.startDate,
                via: self.environment.planner.via.http11)
            self.record.line.policy = self.policyOutcome?.label
            // After a refusal the connection closes if unread bytes may follow: a body, or the
            // tunnel bytes a client sends right behind its CONNECT. (Only refusals ask.)
            var unreadBytesMayFollow = false
            if case .reject = disposition {
                unreadBytesMayFollow = !self.clientAllowed || head.method.isCONNECT || Self.mayHaveBody(head.fields)
            }
            let adaptation = self.adaptation(for: disposition)
            self.clientBodyEnded = adaptation != .streamed
            // The services get NIO's form of the head (made only for them).
            if adaptation != .skip { self.adaptingHead = head.httpHead }
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
            self.perform(self.machine.requestEnd())
        }
    }

    /// Whether a refused request may still have body bytes on the wire (then the connection
    /// cannot be reused after the refusal).
    static func mayHaveBody(_ fields: HeadFields) -> Bool {
        fields.contentLength != nil || fields.hasTransferEncoding || fields.framingError != nil
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
        context.close(promise: nil)
    }

    /// A request that cannot be read (400) or whose head is too large (431): the client gets
    /// the page if nothing of a response has gone out yet, and the connection closes.
    func refuseMalformedRequest(_ page: LocalPage, reason: String, context: ChannelHandlerContext) {
        // Only a connection that has not started answering can still get a page.
        guard self.machine.isIdle || self.isAwaitingResponseHead else {
            self.perform(self.machine.clientClosed())
            context.close(promise: nil)
            return
        }
        self.machine.requestFailed()
        self.abandonOrigin()
        self.record = ExchangeRecord(
            method: "NONE", url: "error:invalid-request", client: self.clientIP, start: context.eventLoop.now)
        self.writeLocalPage(page, reason: reason, url: "", closeAfter: true)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
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

    var mayReadClient: Bool {
        if !self.pipelined.isEmpty { return false }
        // After an upgrade request the parser has stopped: until the origin answers, what the
        // client sends would only pile up unparsed. It waits in the socket for the tunnel.
        if case .stopped = self.requestParser.state { return false }
        if let first = self.requestStages.first, !self.clientBodyEnded { return first.mayTakeRequestBody }
        return self.machineMayReadClient
    }

    /// Whether the exchange in flight can take more of the client's bytes.
    var machineMayReadClient: Bool {
        switch self.machine.state {
        case .idle, .answeredLocally, .closed:
            return true
        case .adapting(let requestComplete):
            // Adapted whole: a CONNECT or a bodiless request, whose end may still be read.
            // (A body streams to the services, gated by `requestStages` instead.)
            return !requestComplete
        case .connecting, .tunnelling:
            return false
        case .forwarding(let requestComplete, _):
            return requestComplete || (self.origin?.channel.isWritable ?? false)
        }
    }

    /// Takes up pipelined requests now that the connection is idle again.
    func drainPipelined() {
        while let next = self.pipelined.first {
            if Self.isHead(next) && !self.machine.isIdle { return }
            self.handle(self.pipelined.removeFirst())
        }
    }

    func resumeClientReadIfPossible() {
        guard self.pendingClientRead, self.mayReadClient, let context = self.context else { return }
        self.pendingClientRead = false
        context.read()
    }

    var isAwaitingResponseHead: Bool {
        switch self.machine.state {
        case .adapting, .connecting, .forwarding(_, responseStarted: false): return true
        default: return false
        }
    }

    // MARK: actions

    func perform(_ action: ExchangeStateMachine.Action) {
        // (Only the actions that write to the client take the context: each `let` of it is a
        // retain and a release, and a request runs through several actions.)
        guard self.context != nil else {
            if case .abort(let closeOrigin) = action, closeOrigin { self.abandonOrigin() }
            return
        }
        if self.heldResponse != nil {
            if case .writeResponseBody = action {} else { self.writeHeldResponse() }
        }
        switch action {
        case .none:
            break
        case .adaptRequest:
            self.adaptRequest()
        case .connectOrigin(let plan, let fresh):
            self.connectOrigin(plan, fresh: fresh)
        case .connectTunnel(let target):
            guard let context = self.context else { return }
            self.openTunnel(to: target, context: context)
        case .respondLocally(let page, let reason, let url, let closeAfter):
            self.endAdaptations()
            self.abandonOrigin()
            self.writeLocalPage(page, reason: reason, url: url, closeAfter: closeAfter)
        case .answer(let head, let body, let closeAfter):
            self.endAdaptations()
            self.record.line.status = Int(head.status.code)
            self.record.line.action = "TCP_MISS"
            self.writeComplete(head: head, body: body, closeAfter: closeAfter)
        case .sendRequest(let plan, let body, let end):
            // (The origin's read timeout counts from when the exchange took the connection.)
            // (Only the handler is taken from `origin`: a copy of the whole lease retains three.)
            guard let origin = self.origin?.handler else { return }
            origin.expectResponse(requestWasHEAD: plan.method.isHEAD)
            origin.writeRequestHead(capacity: 512) { OriginRequestSerializer.head(plan, into: &$0) }
            self.requestChunker.begin(chunked: plan.requestFraming == .chunked)
            for buffer in body { self.sendBodyPart(buffer, to: origin, allocator: self.allocator) }
            if end, let last = self.requestChunker.end(allocator: self.allocator) {
                origin.write(last)
            }
            self.flushOrigin(origin)
            // The body still to come flows now: from the client, or from the services.
            self.requestStages.last?.resume()
            self.resumeClientReadIfPossible()
        case .sendBody(let buffer):
            guard let origin = self.origin?.handler else { return }
            // An upload in progress is activity: the origin is not silent, it is listening.
            origin.noteActivity()
            self.sendBodyPart(buffer, to: origin, allocator: self.allocator)
            self.flushOrigin(origin)
        case .sendEnd:
            guard let origin = self.origin?.handler else { return }
            if let last = self.requestChunker.end(allocator: self.allocator) { origin.write(last) }
            self.flushOrigin(origin)
        case .writeInformational(let plan):
            // HTTP/1.0 clients know nothing of 1xx responses; one that got its 100 Continue
            // from the proxy already does not get the origin's.
            if self.record.clientVersion.minor >= 1 && !(self.sentContinue && plan.head.status == 100),
                let context = self.context
            {
                context.writeAndFlush(
                    ClientConnectionHandler.wrapOutboundOut(ResponseSerializer.encode(plan, allocator: self.allocator)),
                    promise: nil)
            }
        case .writeResponseHead(let plan):
            self.record.line.status = plan.head.status
            self.record.line.contentType = plan.head.contentType
            self.clientNeedsFlush = true
            switch plan.originFraming {
            case .chunked, .untilClose: self.origin?.handler.setBulkReads(true)
            case .contentLength(let length) where length > 256 * 1024: self.origin?.handler.setBulkReads(true)
            default: break
            }
            if self.responseStages.isEmpty, case .contentLength(let length) = plan.clientFraming,
                length <= Self.heldResponseLimit
            {
                // A small body most likely came in the same read: it joins its head.
                var buffer = self.responseBuffer.take(
                    capacity: ResponseSerializer.capacity(for: plan) + Int(length), allocator: self.allocator
                )
                self.serializer.head(plan, into: &buffer)
                self.heldResponse = buffer
            } else {
                let bytes = self.serializer.head(plan, allocator: self.allocator)
                self.context?.write(ClientConnectionHandler.wrapOutboundOut(bytes), promise: nil)
            }
        case .writeResponseBody(var buffer):
            self.record.line.bytes += buffer.readableBytes
            self.clientNeedsFlush = true
            if self.heldResponse != nil {
                self.heldResponse!.writeBuffer(&buffer)
                return
            }
            guard let context = self.context else { return }
            if let prefix = self.serializer.chunkPrefix(for: buffer, allocator: self.allocator) {
                context.write(ClientConnectionHandler.wrapOutboundOut(prefix), promise: nil)
            }
            context.write(ClientConnectionHandler.wrapOutboundOut(buffer), promise: nil)
        case .finishResponse(let reuseOrigin, let keepClient):
            self.finishResponse(reuseOrigin: reuseOrigin, keepClient: keepClient)
        case .switchToTunnel(let plan):
            guard let context = self.context else { return }
            self.switchProtocols(plan, context: context)
        case .localExchangeComplete:
            if self.closeWhenIdle {
                self.context?.close(promise: nil)
            } else {
                self.awaitRequest()
                self.drainPipelined()
                self.resumeClientReadIfPossible()
            }
        case .abort(let closeOrigin):
            self.endAdaptations()
            if closeOrigin { self.abandonOrigin() }
            self.logExchange(action: "TCP_MISS_ABORTED")
            // What was already received goes out before the close that tells the client the
            // response is cut short (its framing cannot complete).
            guard let context = self.context else { return }
            context.flush()
            context.close(promise: nil)
        }
    }

    /// Responses with at most this many body bytes are written with their head in one piece.
    static let heldResponseLimit: Int64 = 16 * 1024

    func writeHeldResponse() {
        guard let held = self.heldResponse else { return }
        self.heldResponse = nil
        self.context?.write(ClientConnectionHandler.wrapOutboundOut(held), promise: nil)
        self.responseBuffer.keep(held)
    }

    func sendBodyPart(_ buffer: ByteBuffer, to origin: OriginConnectionHandler, allocator: ByteBufferAllocator) {
        if let prefix = self.requestChunker.prefix(for: buffer, allocator: allocator) { origin.write(prefix) }
        origin.write(buffer)
    }

    /// Flushes now, or at the end of the client read burst in progress.
    func flushOrigin(_ origin: OriginConnectionHandler) {
        if self.inClientReadBurst {
            self.originNeedsFlush = true
        } else {
            origin.flush()
        }
    }

    func connectOrigin(_ plan: ForwardPlan, fresh: Bool) {
        self.record.line.action = "TCP_MISS"
        let key = OriginPool.Key(host: plan.connectHost, port: plan.connectPort)
        if !fresh, let (channel, handler) = self.pool.lease(key, now: self.record.start) {
            // Leased as the request started: its clock reading serves the origin's read timeout.
            self.attachOrigin(channel: channel, handler: handler, key: key, reused: true, now: self.record.start)
            self.perform(self.machine.originConnected())
            return
        }
        guard let context = self.context else { return }
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
                this.attachOrigin(
                    channel: channel, handler: handler, key: key, reused: false, now: channel.eventLoop.now)
                this.perform(this.machine.originConnected())
            case .failure(let error):
                let connectError =
                    error as? OriginConnectError ?? OriginConnectError(kind: .unreachable, detail: "\(error)")
                this.perform(this.machine.originConnectFailed(connectError))
            }
        }
    }

    func attachOrigin(
        channel: any Channel, handler: OriginConnectionHandler, key: OriginPool.Key, reused: Bool, now: NIODeadline
    ) {
        self.origin = (channel, handler, key, reused)
        self.record.line.peer = handler.peerDescription
        handler.attach(self, now: now)
    }

    /// Drops the origin connection of the exchange in flight (it is in an unknown state).
    func abandonOrigin() {
        guard let origin = self.origin else { return }
        self.origin = nil
        origin.handler.detach()
        origin.channel.close(promise: nil)
    }

    func finishResponse(reuseOrigin: Bool, keepClient: Bool) {
        guard let context = self.context else { return }
        // One clock reading for the pool, the log and the idle timeout.
        let now = context.eventLoop.now
        // An adapted response can end before the origin's (a block page for a download): an
        // origin still attached then is mid-response, and goes.
        let reuseOrigin = reuseOrigin && self.responseStages.isEmpty
        // A response that ends before the client's body did (the origin did not wait for it):
        // the rest of the body is still on its way, so the connection cannot carry another request.
        let keepClient = keepClient && self.clientBodyEnded
        self.endAdaptations()
        if let origin = self.origin {
            self.origin = nil
            origin.handler.detach()
            if reuseOrigin {
                self.pool.release(origin.channel, handler: origin.handler, key: origin.key, now: now)
            } else {
                origin.channel.close(promise: nil)
            }
        }
        self.logExchange(action: nil, now: now)
        self.clientNeedsFlush = false
        let last = self.serializer.end(allocator: self.allocator)
        if keepClient && !self.closeWhenIdle {
            if let last { context.write(ClientConnectionHandler.wrapOutboundOut(last), promise: nil) }
            context.flush()
            self.awaitRequest(now: now)
            self.drainPipelined()
            self.resumeClientReadIfPossible()
        } else {
            // Closed once the response is out (an empty write marks the end of the queue).
            let channel = context.channel
            context.writeAndFlush(
                ClientConnectionHandler.wrapOutboundOut(last ?? channel.allocator.buffer(capacity: 0))
            )
            .whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: local answers

    func writeLocalPage(_ page: LocalPage, reason: String, url: String, closeAfter: Bool) {
        guard self.context != nil else { return }
        let requestID = "\(self.clientIP)-\(ObjectIdentifier(self).hashValue & 0xFFFF_FFFF)-\(self.requestCounter)"
        var values = PageValues(
            status: 0, title: "", reason: reason, url: url, client: self.clientIP, requestID: requestID)
        var snapshot = self.policy.snapshot
        if let outcome = self.policyOutcome, outcome.decision.isBlocked {
            outcome.blockPageValues(&values)
            snapshot = outcome.snapshot
        }
        let (head, body) = self.environment.localResponse(
            page, values: values, snapshot: snapshot, closeAfter: closeAfter, allocator: self.allocator)
        self.record.line.status = Int(page.status.code)
        self.record.line.action = page.status == .forbidden ? "TCP_DENIED" : "NONE_NONE"
        self.record.line.contentType = ExchangeRecord.htmlContentType
        self.writeComplete(head: head, body: body, closeAfter: closeAfter)
    }

    func writeComplete(head: HTTPResponseHead, body: ByteBuffer, closeAfter: Bool) {
        guard let context = self.context else { return }
        self.record.line.bytes += body.readableBytes
        self.logExchange(action: nil)
        var bytes = ResponseSerializer.encode(head, allocator: self.allocator)
        if self.record.line.method != "HEAD" { bytes.writeImmutableBuffer(body) }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        context.writeAndFlush(ClientConnectionHandler.wrapOutboundOut(bytes)).whenComplete { _ in
            let this = loopBound.value
            if closeAfter {
                channel.close(promise: nil)
                return
            }
            this.perform(this.machine.localResponseWritten())
        }
    }

    // MARK: access log

    func logExchange(action: String?, now: NIODeadline = .now()) {
        guard !self.record.logged else { return }
        self.record.logged = true
        self.record.log(action: action, now: now, to: self.accessLog)
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
        // The rest of a held response's body is in a later read: what came goes now.
        if self.heldResponse != nil { self.writeHeldResponse() }
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
        // (A response the services were adapting did come back: no retry for it.)
        let reused = (self.origin?.reused ?? false) && self.responseStages.isEmpty
        self.origin = nil
        if let first = self.responseStages.first {
            if error == nil && self.originResponseFraming == .untilClose {
                // Read-until-close: the close is the end of the body.
                first.streamEnd()
                return
            }
            // The origin failed mid-response: the services' work is moot, and the machine
            // answers as it would without them (504 or 502 before the head, a close after).
            self.endAdaptations()
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

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}
