import NIOCore

/// The last handler of one ICAP client connection (after `addICAPClientHandlers`): runs one
/// exchange at a time, streaming both ways. The exchange's ``ICAPExchangeReceiver`` writes the
/// request's parts (`begin`, `writeBody`, `endPreview`, `end`) and is handed the answer's parts
/// as they arrive; reads wait while the receiver cannot take more. While the exchange waits on
/// the service, each read must come within `readTimeout` (one lazy timer). Any failure closes
/// the connection.
///
/// `run(_:completion:)` is the whole-message form: the request is sent whole (with its
/// preview) and the answer gathered.
public final class ICAPClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ICAPResponsePart
    public typealias OutboundIn = ICAPRequestPart
    public typealias OutboundOut = ICAPRequestPart

    public typealias Completion = (Result<ICAPClientResponse, ICAPClientError>) -> Void

    private let readTimeout: TimeAmount
    private let maxBodyBytes: Int
    private var context: ChannelHandlerContext?
    private var machine = ICAPClientExchangeStateMachine()
    private var receiver: (any ICAPExchangeReceiver)?
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var isOpen = true
    private var pendingRead = false

    /// - Parameter maxBodyBytes: the largest answer body `run` gathers.
    public init(readTimeout: TimeAmount, maxBodyBytes: Int = 1 << 20) {
        self.readTimeout = readTimeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether the connection is open and between exchanges (may be given a new one).
    public var isReusable: Bool { self.isOpen && self.receiver == nil && self.context != nil }

    /// Whether the connection takes more writes now.
    public var isWritable: Bool { self.context?.channel.isWritable ?? false }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: the exchange, as the receiver drives it

    /// Starts an exchange: writes the head (and, for a request without a body, its end). A
    /// connection that cannot take it fails the exchange at once (`icapExchangeFailed`).
    public func begin(_ head: ICAPRequestHead, _ heads: ICAPEncapsulatedHeads, receiver: any ICAPExchangeReceiver) {
        guard let context = self.context, self.isReusable else {
            receiver.icapExchangeFailed(.closed)
            return
        }
        self.receiver = receiver
        self.machine = ICAPClientExchangeStateMachine()
        self.machine.begin()
        context.write(ICAPClientHandler.wrapOutboundOut(.head(head, heads)), promise: nil)
        if !heads.hasBody {
            context.write(ICAPClientHandler.wrapOutboundOut(.end), promise: nil)
            self.machine.requestEnded()
            context.flush()
        }
        self.armDeadline(context: context)
    }

    /// Writes body data (dropped once the service cut the request short). Call `flush()`.
    public func writeBody(_ buffer: ByteBuffer) {
        guard let context = self.context, self.machine.acceptsBody else { return }
        context.write(ICAPClientHandler.wrapOutboundOut(.body(buffer)), promise: nil)
    }

    /// Ends the preview (and the request, with `ieof`), and flushes.
    public func endPreview(ieof: Bool) {
        guard let context = self.context, self.machine.request == .sending else { return }
        context.write(ICAPClientHandler.wrapOutboundOut(.previewEnd(ieof: ieof)), promise: nil)
        if ieof { context.write(ICAPClientHandler.wrapOutboundOut(.end), promise: nil) }
        self.machine.previewEnded(ieof: ieof)
        context.flush()
        self.deadline = context.eventLoop.now + self.readTimeout
    }

    /// Ends the request body, and flushes.
    public func end() {
        guard let context = self.context, self.machine.acceptsBody else { return }
        context.write(ICAPClientHandler.wrapOutboundOut(.end), promise: nil)
        self.machine.requestEnded()
        context.flush()
        self.deadline = context.eventLoop.now + self.readTimeout
    }

    public func flush() { self.context?.flush() }

    /// The receiver gives the exchange up: the connection closes, and no callback follows.
    public func abandon() {
        self.receiver = nil
        self.isOpen = false
        self.context?.close(promise: nil)
    }

    /// The receiver can take more of the answer again.
    public func resumeReading() {
        guard self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }

    // MARK: the whole-message form

    /// Sends `request` whole and calls `completion` once with the gathered answer or the
    /// failure. An answer body over `maxBodyBytes` is a failure.
    public func run(_ request: ICAPClientRequest, completion: @escaping Completion) {
        GatheringExchange(request: request, maxBodyBytes: self.maxBodyBytes, completion: completion).start(on: self)
    }

    // MARK: channel events

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let receiver = self.receiver else {
            // An answer to no request: the stream cannot be trusted any more.
            self.isOpen = false
            context.close(promise: nil)
            return
        }
        self.deadline = context.eventLoop.now + self.readTimeout
        switch ICAPClientHandler.unwrapInboundIn(data) {
        case .head(let head, let heads):
            switch self.machine.responseHead(statusCode: head.statusCode) {
            case .sendRest: receiver.icapContinue()
            case .deliverHead: receiver.icapResponseHead(head, heads)
            case let other: self.perform(other, context: context)
            }
        case .body(let buffer):
            switch self.machine.responseBody() {
            case .deliverBody: receiver.icapResponseBody(buffer)
            case let other: self.perform(other, context: context)
            }
        case .end:
            self.perform(self.machine.responseEnd(), context: context)
        }
    }

    /// Bytes arrived, whether or not they made a whole part: the service is not silent.
    public func channelReadComplete(context: ChannelHandlerContext) {
        if self.deadline != nil { self.deadline = context.eventLoop.now + self.readTimeout }
        context.fireChannelReadComplete()
    }

    public func read(context: ChannelHandlerContext) {
        if let receiver = self.receiver, !receiver.icapMayRead {
            self.pendingRead = true
            return
        }
        context.read()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.receiver?.icapWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // What the codec refuses is a malformed answer; anything else (a reset, a write to a
        // connection the service closed) is the connection going away.
        switch error {
        case is ICAPParseError, is ICAPEncoderError, is ByteToMessageDecoderError:
            self.perform(self.machine.malformed("\(error)"), context: context)
        default:
            self.perform(self.machine.closed(), context: context)
        }
        self.isOpen = false
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.isOpen = false
        self.perform(self.machine.closed(), context: context)
        context.fireChannelInactive()
    }

    private func perform(_ action: ICAPClientExchangeStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .sendRest, .deliverHead, .deliverBody:
            break
        case .deliverEnd(let reusable):
            self.deadline = nil
            let receiver = self.receiver
            self.receiver = nil
            if !reusable {
                // The service answered before the request's end was written: the stream is
                // out of step, so the connection goes.
                self.isOpen = false
                context.close(promise: nil)
            }
            receiver?.icapExchangeEnded()
        case .fail(let error):
            self.deadline = nil
            self.isOpen = false
            let receiver = self.receiver
            self.receiver = nil
            context.close(promise: nil)
            receiver?.icapExchangeFailed(error)
        }
    }

    // MARK: the read deadline (lazy: one scheduled check, the deadline moves on each read)

    private func armDeadline(context: ChannelHandlerContext) {
        self.deadline = context.eventLoop.now + self.readTimeout
        guard self.timer == nil else { return }
        self.scheduleCheck(in: self.readTimeout, context: context)
    }

    private func scheduleCheck(in delay: TimeAmount, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: delay) {
            let this = loopBound.value
            this.timer = nil
            this.checkDeadline()
        }
    }

    private func checkDeadline() {
        guard let deadline = self.deadline, self.receiver != nil, let context = self.context else { return }
        let now = context.eventLoop.now
        // Time spent waiting on our side (the body still streaming in, reads held for a slow
        // receiver) is not the service's: the deadline moves on.
        if !self.machine.awaitsService || self.pendingRead {
            self.deadline = now + self.readTimeout
            self.scheduleCheck(in: self.readTimeout, context: context)
            return
        }
        if now < deadline {
            self.scheduleCheck(in: deadline - now, context: context)
            return
        }
        self.perform(self.machine.readTimedOut(), context: context)
    }
}

@available(*, unavailable)
extension ICAPClientHandler: Sendable {}
