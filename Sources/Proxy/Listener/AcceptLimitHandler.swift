import Atomics
import NIOCore

/// On a listening socket: stops accepting while `limit` client connections are open and
/// resumes when one closes. The count is shared by every listener of the proxy.
final class AcceptLimitHandler: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let open: ManagedAtomic<Int>
    private let limit: Int
    private var readPending = false
    private var context: ChannelHandlerContext?

    init(open: ManagedAtomic<Int>, limit: Int) {
        self.open = open
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = Self.unwrapInboundIn(data)
        self.open.wrappingIncrement(ordering: .relaxed)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let serverLoop = context.eventLoop
        let open = self.open
        // The child closes on its own event loop; the count is atomic, the resume hops back.
        child.closeFuture.whenComplete { _ in
            open.wrappingDecrement(ordering: .relaxed)
            serverLoop.execute { loopBound.value.resumeIfBelowLimit() }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if self.open.load(ordering: .relaxed) >= self.limit {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private func resumeIfBelowLimit() {
        guard self.readPending, let context = self.context, self.open.load(ordering: .relaxed) < self.limit else {
            return
        }
        self.readPending = false
        context.read()
    }
}

@available(*, unavailable)
extension AcceptLimitHandler: Sendable {}
