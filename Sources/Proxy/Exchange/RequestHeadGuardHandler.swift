import NIOCore

/// Sits in front of the `ClientConnectionHandler` and watches the raw bytes of each request head:
/// it enforces the head size limit (431) and the two client timeouts — the idle keep-alive
/// timeout before a request starts and the header timeout once it has (slowloris).
final class RequestHeadGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Fired down the pipeline when a request head took longer than the header timeout.
    struct HeaderTimeout: Sendable {}
    /// Raised when a request head is larger than the limit.
    struct HeadTooLarge: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "request head larger than \(self.limit) bytes" }
    }

    private enum State {
        /// Between requests or inside a head: `seen` bytes so far, `tail` the last bytes (to
        /// find a CRLFCRLF split across reads).
        case awaitingHead(seen: Int, tail: UInt32)
        /// The head is complete; body and tunnel bytes pass uncounted.
        case inExchange
        case failed
    }

    private let maxHeadBytes: Int
    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private var state: State = .awaitingHead(seen: 0, tail: 0)
    /// When the current wait ends, and whether it is a started head (408) or idleness (close).
    private var deadline: NIODeadline = .distantFuture
    private var headerStarted = false
    /// The one pending check and when it runs. Timers are lazy: a check that finds the
    /// deadline moved just re-arms, so a keep-alive request costs no timer of its own.
    private var check: Scheduled<Void>?
    private var checkAt: NIODeadline = .distantFuture
    private var context: ChannelHandlerContext?
    /// While a tunnel is set up: the client's bytes and EOF, kept from the exchange handler.
    private var tunnelHold: (buffered: [ByteBuffer], inputClosed: Bool)?

    init(maxHeadBytes: Int, idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.maxHeadBytes = maxHeadBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.setDeadline(self.now + self.idleTimeout, headerStarted: false)
    }

    /// The event loop's clock (virtual on an `EmbeddedEventLoop`, so tests need no waiting).
    private var now: NIODeadline { self.context?.eventLoop.now ?? .now() }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.check?.cancel()
        self.check = nil
        self.context = nil
    }

    /// The exchange finished and the connection stays open: the next head is awaited.
    func awaitNextHead() {
        self.state = .awaitingHead(seen: 0, tail: 0)
        self.setDeadline(self.now + self.idleTimeout, headerStarted: false)
    }

    /// A request head reached the exchange handler: whatever the guard saw, an exchange runs
    /// now (this matters for pipelined heads, which passed while the previous one ran).
    func beginExchange() {
        if case .failed = self.state { return }
        self.state = .inExchange
    }

    /// The connection is becoming a tunnel: keep every byte and the EOF from the exchange
    /// handler, which would take the EOF as the end of the connection.
    func holdForTunnel() {
        self.state = .inExchange
        if self.tunnelHold == nil { self.tunnelHold = ([], false) }
    }

    /// What was held back since `holdForTunnel()`, and whether the client sent EOF.
    func takeTunnelHold() -> ([ByteBuffer], Bool) {
        let hold = self.tunnelHold ?? ([], false)
        self.tunnelHold = ([], hold.inputClosed)
        return (hold.buffered, hold.inputClosed)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if self.tunnelHold != nil, case .some(.inputClosed) = event as? ChannelEvent {
            self.tunnelHold?.inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.tunnelHold != nil {
            self.tunnelHold?.buffered.append(Self.unwrapInboundIn(data))
            return
        }
        switch self.state {
        case .inExchange:
            context.fireChannelRead(data)
        case .failed:
            return
        case .awaitingHead(let seen, var tail):
            let buffer = Self.unwrapInboundIn(data)
            var headEnd: Int?
            // Empty lines before a head are no head (the parser drops them): they neither start
            // the header timeout nor end a head, so a client sending only line breaks is still
            // idle, and closed as such.
            var skipped = 0
            if seen == 0 {
                buffer.withUnsafeReadableBytes { bytes in
                    while skipped < bytes.count && (bytes[skipped] == 0x0D || bytes[skipped] == 0x0A) { skipped += 1 }
                }
            }
            buffer.withUnsafeReadableBytes { bytes in
                for index in skipped..<bytes.count {
                    tail = tail << 8 | UInt32(bytes[index])
                    // CRLF CRLF, or the bare-LF forms that the parser also accepts.
                    if tail == 0x0D0A_0D0A || tail & 0xFFFF == 0x0A0A || tail & 0xFF_FFFF == 0x0A_0D0A {
                        headEnd = index + 1
                        break
                    }
                }
            }
            let counted = seen + (headEnd ?? buffer.readableBytes) - skipped
            if counted > self.maxHeadBytes {
                self.state = .failed
                context.fireErrorCaught(HeadTooLarge(limit: self.maxHeadBytes))
                return
            }
            if headEnd != nil {
                self.state = .inExchange
            } else {
                if seen == 0 && counted > 0 {
                    // A head has started but not finished in this read: the header timeout runs.
                    self.setDeadline(self.now + self.headerTimeout, headerStarted: true)
                }
                self.state = .awaitingHead(seen: counted, tail: tail)
            }
            context.fireChannelRead(data)
        }
    }

    private func setDeadline(_ deadline: NIODeadline, headerStarted: Bool) {
        self.deadline = deadline
        self.headerStarted = headerStarted
        if self.check == nil || self.checkAt > deadline {
            self.check?.cancel()
            self.scheduleCheck(at: deadline)
        }
    }

    private func scheduleCheck(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.checkAt = deadline
        self.check = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.runCheck()
        }
    }

    private func runCheck() {
        self.check = nil
        guard case .awaitingHead = self.state, let context = self.context else { return }
        guard self.deadline <= self.now else {
            self.scheduleCheck(at: self.deadline)
            return
        }
        if self.headerStarted {
            self.state = .failed
            context.fireUserInboundEventTriggered(HeaderTimeout())
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RequestHeadGuardHandler: Sendable {}
