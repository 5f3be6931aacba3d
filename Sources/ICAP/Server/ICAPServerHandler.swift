import NIOCore
import NIOHTTP1

/// The last handler of an ICAP server connection (after ``addICAPServerHandlers``): it answers
/// OPTIONS, REQMOD and RESPMOD with the adapter's decisions, request after request on a
/// persistent connection, and closes after a request it could not read.
public final class ICAPServerHandler<Adapter: ICAPServerAdapter>: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ICAPRequestPart
    public typealias OutboundOut = ICAPResponsePart

    private let adapter: Adapter
    private let serviceName: String
    private var machine = ICAPServerStateMachine()
    private var closeWhenIdle = false
    private var needsFlush = false
    private var answeredError = false

    /// - Parameter serviceName: what OPTIONS answers call the service (`Service:`).
    public init(adapter: Adapter, serviceName: String = "Portcullis") {
        self.adapter = adapter
        self.serviceName = serviceName
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: ICAPServerStateMachine.Action
        switch ICAPServerHandler.unwrapInboundIn(data) {
        case .head(let head, let heads):
            action = self.machine.head(
                answer: self.answer(head, heads), hasPreview: head.preview != nil && heads.hasBody)
        case .body(let buffer):
            action = self.machine.body(buffer)
        case .previewEnd(let ieof):
            action = self.machine.previewEnd(ieof: ieof)
        case .end:
            action = self.machine.end()
        }
        self.perform(action, context: context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
    }

    private func perform(_ action: ICAPServerStateMachine.Action, context: ChannelHandlerContext) {
        guard case .write(let parts) = action, let last = parts.last else { return }
        for part in parts.dropLast() { context.write(ICAPServerHandler.wrapOutboundOut(part), promise: nil) }
        if self.closeWhenIdle && self.machine.isIdle {
            // Shutting down: the answer goes out, then the connection closes.
            let channel = context.channel
            context.writeAndFlush(ICAPServerHandler.wrapOutboundOut(last)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.write(ICAPServerHandler.wrapOutboundOut(last), promise: nil)
            self.needsFlush = true
        }
    }

    /// A request that cannot be read gets the status its error calls for, then the connection
    /// closes (what follows on it cannot be trusted to start a request). Later errors (the
    /// decoder refuses every read after its first failure) get no second answer.
    ///
    /// The answer goes out past the decoder, from its place in the pipeline: it reads nothing
    /// more, and answers written while it was taking the failed read apart are never handed to
    /// it, so one written through it now would arrive out of turn (NIO asserts against that).
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.answeredError else { return }
        self.answeredError = true
        var head = ICAPResponseHead(status: (error as? ICAPParseError)?.status ?? .serverError)
        head.headers.add(name: "ISTag", value: self.adapter.istag)
        head.headers.add(name: "Connection", value: "close")
        let out =
            (try? context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<ICAPRequestDecoder>.self))
            ?? context
        let channel = context.channel
        out.write(NIOAny(ICAPResponsePart.head(head, .none)), promise: nil)
        out.writeAndFlush(NIOAny(ICAPResponsePart.end)).whenComplete { _ in channel.close(promise: nil) }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            if self.machine.isIdle { context.close(promise: nil) } else { self.closeWhenIdle = true }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: deciding

    private func answer(_ head: ICAPRequestHead, _ heads: ICAPEncapsulatedHeads) -> ICAPServerStateMachine.Answer {
        guard let service = ICAPServerService(uri: head.uri) else {
            return self.error(.serviceNotFound)
        }
        switch head.method {
        case .options:
            return .final(self.options(for: service), .none, body: nil)
        case let method where method != service.method:
            return self.error(.methodNotAllowed)
        case .reqmod:
            guard let request = heads.request else { return self.error(.badRequest) }
            return self.answer(self.adapter.adaptRequest(request, icap: head), head, heads)
        case .respmod:
            guard let response = heads.response else { return self.error(.badRequest) }
            return self.answer(
                self.adapter.adaptResponse(response, request: heads.request, icap: head), head, heads)
        }
    }

    private func answer(
        _ adaptation: ICAPAdaptation, _ head: ICAPRequestHead, _ heads: ICAPEncapsulatedHeads
    ) -> ICAPServerStateMachine.Answer {
        switch adaptation {
        case .unchanged:
            // 204 is always allowed inside a preview; otherwise only with `Allow: 204`.
            if head.allows204 || (head.preview != nil && heads.hasBody) {
                return .final(self.responseHead(.noContent), .none, body: nil)
            }
            return self.echo(heads, replacingRequest: nil)
        case .modifiedRequest(let request):
            return self.echo(heads, replacingRequest: request)
        case .respond(let response, let body):
            guard
                let satisfied = try? ICAPEncapsulatedHeads(
                    response: response, body: body.readableBytes > 0 ? .responseBody : .nullBody)
            else { return self.error(.serverError) }
            return .final(self.responseHead(.ok), satisfied, body: body)
        }
    }

    /// The message sent back as it came, or with a new request head.
    private func echo(
        _ heads: ICAPEncapsulatedHeads, replacingRequest request: HTTPRequestHead?
    )
        -> ICAPServerStateMachine.Answer
    {
        let echoed: ICAPEncapsulatedHeads?
        if let request {
            echoed = try? ICAPEncapsulatedHeads(request: request, body: heads.encapsulated.bodySection)
        } else {
            echoed = try? ICAPEncapsulatedHeads(
                requestHeadBytes: heads.responseHeadBytes == nil ? heads.requestHeadBytes : nil,
                responseHeadBytes: heads.responseHeadBytes, body: heads.encapsulated.bodySection)
        }
        guard let echoed else { return self.error(.serverError) }
        return .echo(self.responseHead(.ok), echoed)
    }

    private func options(for service: ICAPServerService) -> ICAPResponseHead {
        var head = ICAPOptions(
            methods: [service.method], istag: self.adapter.istag, service: "\(self.serviceName) \(service.rawValue)",
            maxConnections: 10000,
            // Short, so clients fetch a new ISTag soon after the policy changes.
            optionsTTL: 60,
            // Decisions need the heads only: no body bytes are wanted up front.
            preview: 0, transferPreview: ["*"], allows204: true
        ).responseHead
        head.headers.add(name: "Server", value: self.serviceName)
        return head
    }

    private func responseHead(_ status: ICAPStatus) -> ICAPResponseHead {
        var head = ICAPResponseHead(status: status)
        head.headers.add(name: "ISTag", value: self.adapter.istag)
        head.headers.add(name: "Server", value: self.serviceName)
        return head
    }

    private func error(_ status: ICAPStatus) -> ICAPServerStateMachine.Answer {
        .final(self.responseHead(status), .none, body: nil)
    }
}

@available(*, unavailable)
extension ICAPServerHandler: Sendable {}
