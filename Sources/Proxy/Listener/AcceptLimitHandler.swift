import NIOCore

/// On a listening socket: registers each accepted connection with `ClientConnections`, and
/// stops accepting while the proxy-wide limit is reached, resuming when any connection closes.
final class AcceptLimitHandler: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let connections: ClientConnections
    private var readPending = false
    private var context: ChannelHandlerContext?

    init(connections: ClientConnections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connections.accepted(AcceptLimitHandler.unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard self.connections.mayAccept else {
            guard !self.readPending else { return }
            self.readPending = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            self.connections.whenSlotFrees {
                loop.execute { loopBound.value.resume() }
            }
            return
        }
        context.read()
    }

    private func resume() {
        guard self.readPending, let context = self.context else { return }
        self.readPending = false
        // Through the pipeline, so the limit is checked again.
        self.read(context: context)
    }
}

@available(*, unavailable)
extension AcceptLimitHandler: Sendable {}
