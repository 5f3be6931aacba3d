import NIOCore

/// Sits in front of the HTTP decoder and watches the raw bytes of each request head:
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
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(maxHeadBytes: Int, idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.maxHeadBytes = maxHeadBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.startTimer(self.idleTimeout, headerStarted: false)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.context = nil
    }

    /// The exchange finished and the connection stays open: the next head is awaited.
    func awaitNextHead() {
        self.state = .awaitingHead(seen: 0, tail: 0)
        self.startTimer(self.idleTimeout, headerStarted: false)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.state {
        case .inExchange:
            context.fireChannelRead(data)
        case .failed:
            return
        case .awaitingHead(let seen, var tail):
            let buffer = Self.unwrapInboundIn(data)
            if seen == 0 && buffer.readableBytes > 0 {
                self.startTimer(self.headerTimeout, headerStarted: true)
            }
            var headEnd: Int?
            buffer.withUnsafeReadableBytes { bytes in
                for index in 0..<bytes.count {
                    tail = tail << 8 | UInt32(bytes[index])
                    // CRLF CRLF, or the bare-LF form LF LF that the decoder also accepts.
                    if tail == 0x0D0A_0D0A || tail & 0xFFFF == 0x0A0A {
                        headEnd = index + 1
                        break
                    }
                }
            }
            let counted = seen + (headEnd ?? buffer.readableBytes)
            if counted > self.maxHeadBytes {
                self.state = .failed
                self.cancelTimer()
                context.fireErrorCaught(HeadTooLarge(limit: self.maxHeadBytes))
                return
            }
            if headEnd != nil {
                self.state = .inExchange
                self.cancelTimer()
            } else {
                self.state = .awaitingHead(seen: counted, tail: tail)
            }
            context.fireChannelRead(data)
        }
    }

    private func startTimer(_ timeout: TimeAmount, headerStarted: Bool) {
        self.cancelTimer()
        guard let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.timerFired(headerStarted: headerStarted)
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }

    private func timerFired(headerStarted: Bool) {
        self.timer = nil
        guard case .awaitingHead = self.state, let context = self.context else { return }
        if headerStarted {
            self.state = .failed
            context.fireUserInboundEventTriggered(HeaderTimeout())
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RequestHeadGuardHandler: Sendable {}
