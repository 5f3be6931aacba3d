import NIOCore

/// The last handler of one ICAP client connection (after `addICAPClientHandlers`): runs one
/// exchange at a time, writes the request's parts, gathers the answer and hands it to the
/// exchange's callback. Each read must come within `readTimeout` (one lazy timer). Any
/// failure closes the connection; the callback is called exactly once per exchange.
public final class ICAPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ICAPResponsePart
    public typealias OutboundOut = ICAPRequestPart

    public typealias Completion = (Result<ICAPClientResponse, ICAPClientError>) -> Void

    private let readTimeout: TimeAmount
    private let maxBodyBytes: Int
    private var context: ChannelHandlerContext?
    private var machine = ICAPClientExchangeStateMachine()
    private var completion: Completion?
    private var rest: ByteBuffer?
    private var responseHead: (ICAPResponseHead, ICAPEncapsulatedHeads)?
    private var responseBody = ByteBuffer()
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var isOpen = true

    public init(readTimeout: TimeAmount, maxBodyBytes: Int = 1 << 20) {
        self.readTimeout = readTimeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether the connection is open and between exchanges (may be given a new one).
    public var isReusable: Bool { self.isOpen && self.completion == nil && self.context != nil }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Sends `request` and calls `completion` with the final answer or the failure.
    public func run(_ request: ICAPClientRequest, completion: @escaping Completion) {
        guard let context = self.context, self.isOpen, self.completion == nil else {
            completion(.failure(.closed))
            return
        }
        self.completion = completion
        self.machine = ICAPClientExchangeStateMachine()
        self.responseHead = nil
        self.responseBody.clear()
        self.rest = nil
        context.write(Self.wrapOutboundOut(.head(request.head, request.heads)), promise: nil)
        var previewOnly = false
        if request.heads.hasBody {
            var body = request.body ?? ByteBuffer()
            if let preview = request.head.preview {
                let first = body.readSlice(length: min(preview, body.readableBytes)) ?? ByteBuffer()
                if first.readableBytes > 0 { context.write(Self.wrapOutboundOut(.body(first)), promise: nil) }
                let ieof = body.readableBytes == 0
                context.write(Self.wrapOutboundOut(.previewEnd(ieof: ieof)), promise: nil)
                if ieof {
                    context.write(Self.wrapOutboundOut(.end), promise: nil)
                } else {
                    previewOnly = true
                    self.rest = body
                }
            } else {
                if body.readableBytes > 0 { context.write(Self.wrapOutboundOut(.body(body)), promise: nil) }
                context.write(Self.wrapOutboundOut(.end), promise: nil)
            }
        } else {
            context.write(Self.wrapOutboundOut(.end), promise: nil)
        }
        context.flush()
        self.machine.requestWritten(previewOnly: previewOnly)
        self.armDeadline(context: context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.completion != nil else {
            // An answer to no request: the stream cannot be trusted any more.
            self.isOpen = false
            context.close(promise: nil)
            return
        }
        self.deadline = context.eventLoop.now + self.readTimeout
        switch Self.unwrapInboundIn(data) {
        case .head(let head, let heads):
            let action = self.machine.responseHead(statusCode: head.statusCode)
            if head.statusCode >= 200 { self.responseHead = (head, heads) }
            self.perform(action, context: context)
        case .body(let buffer):
            if self.responseBody.readableBytes + buffer.readableBytes > self.maxBodyBytes {
                self.perform(self.machine.malformed("an answer body over \(self.maxBodyBytes) bytes"), context: context)
                return
            }
            var buffer = buffer
            self.responseBody.writeBuffer(&buffer)
        case .end:
            self.perform(self.machine.responseEnd(), context: context)
        }
    }

    /// Bytes arrived, whether or not they made a whole part: the service is not silent.
    public func channelReadComplete(context: ChannelHandlerContext) {
        if self.deadline != nil { self.deadline = context.eventLoop.now + self.readTimeout }
        context.fireChannelReadComplete()
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
        case .none:
            break
        case .sendRest:
            if let rest = self.rest, rest.readableBytes > 0 {
                context.write(Self.wrapOutboundOut(.body(rest)), promise: nil)
            }
            self.rest = nil
            context.writeAndFlush(Self.wrapOutboundOut(.end), promise: nil)
        case .deliver:
            self.stopDeadline()
            guard let completion = self.completion, let (head, heads) = self.responseHead else { return }
            self.completion = nil
            let body = self.responseBody
            self.responseBody = ByteBuffer()
            completion(.success(ICAPClientResponse(head: head, heads: heads, body: body)))
        case .fail(let error):
            self.stopDeadline()
            self.isOpen = false
            let completion = self.completion
            self.completion = nil
            context.close(promise: nil)
            completion?(.failure(error))
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
        guard let deadline = self.deadline, let context = self.context else { return }
        let now = context.eventLoop.now
        if now < deadline {
            self.scheduleCheck(in: deadline - now, context: context)
            return
        }
        self.perform(self.machine.readTimedOut(), context: context)
    }

    private func stopDeadline() {
        self.deadline = nil
    }
}

@available(*, unavailable)
extension ICAPClientHandler: Sendable {}
