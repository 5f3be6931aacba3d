import NIOCore

/// One end of a tunnel: bytes read here are written to the partner channel. Reads are held
/// while the partner cannot take more (backpressure), and an EOF is passed on as a shutdown
/// of the partner's output so the last bytes of a transfer are never lost.
final class TunnelGlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Side { case client, origin }

    private let tunnel: Tunnel
    let side: Side
    var partner: TunnelGlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Until the tunnel is active, bytes for this side wait here (HTTP handlers may still be
    /// leaving the pipeline) and reads are held.
    private var isActive = false
    private var heldWrites: [ByteBuffer] = []
    /// This side sent EOF.
    private var inputClosed = false
    /// The partner's EOF arrived before the tunnel was active: pass it on at activation.
    private var shutdownPending = false

    init(tunnel: Tunnel, side: Side) {
        self.tunnel = tunnel
        self.side = side
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Writability may have changed before we were added (STYLE.md: GlueHandler's fault).
        if context.channel.isWritable { self.partner?.partnerBecameWritable() }
        if !context.channel.isActive { self.tunnel.noteChannelClosed() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.partner?.writeFromPartner(TunnelGlueHandler.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.flushFromPartner()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.tunnel.noteChannelClosed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            self.inputClosed = true
            self.partner?.shutdownOutputFromPartner()
            self.tunnel.noteHalfClose()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.tunnel.noteChannelClosed()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if self.isActive, let partner = self.partner, partner.isWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    // MARK: called by the partner

    func writeFromPartner(_ buffer: ByteBuffer) {
        guard self.isActive else {
            self.heldWrites.append(buffer)
            return
        }
        guard let context = self.context else { return }
        self.tunnel.noteTransfer(buffer.readableBytes, to: self.side)
        context.write(TunnelGlueHandler.wrapOutboundOut(buffer), promise: nil)
    }

    func flushFromPartner() {
        if self.isActive { self.context?.flush() }
    }

    func activate() {
        guard let context = self.context else { return }
        self.isActive = true
        let held = self.heldWrites
        self.heldWrites = []
        for buffer in held { self.writeFromPartner(buffer) }
        context.flush()
        self.pendingRead = false
        if self.shutdownPending {
            self.shutdownPending = false
            self.shutdownOutputFromPartner()
        }
        context.read()
    }

    func shutdownOutputFromPartner() {
        guard self.isActive, let context = self.context else {
            self.shutdownPending = true
            return
        }
        if self.inputClosed {
            // Both directions are done on this channel: NIO would turn an output shutdown into
            // a full close that drops queued writes, so close once they are out instead.
            self.closeAfterPendingWrites()
        } else {
            // NIO shuts the output down once the queued writes are out.
            context.flush()
            context.close(mode: .output, promise: nil)
        }
    }

    /// Closes the channel after everything already written has gone out.
    func closeAfterPendingWrites() {
        guard let context = self.context else { return }
        let channel = context.channel
        context.writeAndFlush(TunnelGlueHandler.wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func partnerBecameWritable() {
        guard self.isActive, self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }

}

@available(*, unavailable)
extension TunnelGlueHandler: Sendable {}
