import NIOCore

/// One side of a splice: what it reads is written to its partner, flushed once per read burst.
/// Reads stop while the partner cannot take more (backpressure), and a close of either side
/// closes the other. No byte is looked at.
final class SpliceHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: SpliceHandler?
    private var context: ChannelHandlerContext?
    private var partnerNeedsFlush = false
    private var pendingRead = false

    /// Joins two handlers; each keeps the other until its channel goes.
    static func pair() -> (SpliceHandler, SpliceHandler) {
        let one = SpliceHandler()
        let other = SpliceHandler()
        one.partner = other
        other.partner = one
        return (one, other)
    }

    private var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let partner = self.partner else { return }
        partner.context?.write(data, promise: nil)
        self.partnerNeedsFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard self.partnerNeedsFlush else { return }
        self.partnerNeedsFlush = false
        self.partner?.context?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.partner?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partner = self.partner
        self.partner = nil
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if let partner = self.partner, !partner.isWritable {
            self.pendingRead = true
        } else {
            context.read()
        }
    }

    private func resumeReading() {
        guard self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }
}
