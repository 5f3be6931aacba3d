import NIOCore

/// The shared state of one tunnel (CONNECT or protocol upgrade): both glue handlers live on
/// the same event loop and report here, so the idle timeout and the byte counts are in one place.
final class Tunnel {
    private let idleTimeout: TimeAmount
    private let loop: any EventLoop
    private var lastActivity: NIODeadline
    private var idleCheck: Scheduled<Void>?
    private var halfClosedSides = 0
    private var closedChannels = 0
    private var finished = false
    /// Bytes sent to the client and to the origin.
    private(set) var bytesToClient: Int = 0
    private(set) var bytesToOrigin: Int = 0
    /// Called once when both channels are closed; receives the byte counts.
    var onFinish: ((Tunnel) -> Void)?
    var client: TunnelGlueHandler?
    var origin: TunnelGlueHandler?
    /// The channels themselves, so an abort closes both even before both glues are in place.
    private var channels: [any Channel] = []

    init(idleTimeout: TimeAmount, loop: any EventLoop) {
        self.idleTimeout = idleTimeout
        self.loop = loop
        self.lastActivity = loop.now
    }

    /// Splices two channels on the same event loop. The glue handlers go in at once (so bytes
    /// the HTTP decoders still hold have somewhere to go) but nothing moves until `activate()`,
    /// called when the HTTP handlers have left both pipelines.
    static func splice(
        client: any Channel, origin: any Channel, idleTimeout: TimeAmount, onFinish: @escaping (Tunnel) -> Void
    ) throws -> Tunnel {
        client.eventLoop.preconditionInEventLoop()
        precondition(client.eventLoop === origin.eventLoop, "tunnel ends must share an event loop")
        let tunnel = Tunnel(idleTimeout: idleTimeout, loop: client.eventLoop)
        tunnel.onFinish = onFinish
        tunnel.channels = [client, origin]
        let clientGlue = TunnelGlueHandler(tunnel: tunnel, side: .client)
        let originGlue = TunnelGlueHandler(tunnel: tunnel, side: .origin)
        clientGlue.partner = originGlue
        originGlue.partner = clientGlue
        tunnel.client = clientGlue
        tunnel.origin = originGlue
        try client.pipeline.syncOperations.addHandler(clientGlue)
        try origin.pipeline.syncOperations.addHandler(originGlue)
        // A tunnel moves bulk bytes: larger reads, several per readiness event, fewer syscalls.
        for channel in [client, origin] {
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.bulkReads)
            try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 4)
        }
        tunnel.armIdleCheck(on: client.eventLoop)
        return tunnel
    }

    static let bulkReads = AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 262_144)

    /// Both pipelines are pure byte pipes now: write what was held and start reading.
    /// `clientInputClosed`: the client half-closed before the tunnel was ready; its EOF is
    /// passed on now, after the bytes it sent before it.
    func activate(clientInputClosed: Bool = false) {
        guard !self.finished else { return }
        self.client?.activate()
        self.origin?.activate()
        if clientInputClosed {
            self.origin?.shutdownOutputFromPartner()
            self.noteHalfClose()
        }
    }

    func noteTransfer(_ count: Int, to side: TunnelGlueHandler.Side) {
        self.lastActivity = self.loop.now
        switch side {
        case .client: self.bytesToClient += count
        case .origin: self.bytesToOrigin += count
        }
    }

    /// One side sent EOF and the other side's output is being shut down. After both, each
    /// channel closes once its last writes are out; the tunnel ends when both are closed.
    func noteHalfClose() {
        self.halfClosedSides += 1
        if self.halfClosedSides >= 2 {
            self.client?.closeAfterPendingWrites()
            self.origin?.closeAfterPendingWrites()
        }
    }

    /// Setting up failed: close both ends.
    func abort() { self.closeBoth() }

    func noteChannelClosed() {
        self.closedChannels += 1
        if self.closedChannels >= 2 {
            self.finish()
            return
        }
        // One side is gone (a close, a reset, or NIO closing a channel whose two halves are
        // both shut): the other still gets what was already written to it, then closes. The
        // idle check stays armed in case its peer never reads.
        self.client?.closeAfterPendingWrites()
        self.origin?.closeAfterPendingWrites()
    }

    /// Closes both channels at once, dropping what is queued (idle timeout, failed setup).
    private func closeBoth() {
        for channel in self.channels { channel.close(promise: nil) }
        self.finish()
    }

    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.idleCheck?.cancel()
        self.idleCheck = nil
        self.channels = []
        self.client = nil
        self.origin = nil
        let onFinish = self.onFinish
        self.onFinish = nil
        onFinish?(self)
    }

    private func armIdleCheck(on loop: any EventLoop) {
        let loopBound = NIOLoopBound(self, eventLoop: loop)
        self.idleCheck = loop.scheduleTask(deadline: self.lastActivity + self.idleTimeout) {
            let tunnel = loopBound.value
            tunnel.idleCheck = nil
            if tunnel.lastActivity + tunnel.idleTimeout <= loop.now {
                tunnel.closeBoth()
            } else if !tunnel.finished {
                tunnel.armIdleCheck(on: loop)
            }
        }
    }
}

@available(*, unavailable)
extension Tunnel: Sendable {}
