import NIOCore
import NIOHTTP1
import Policy

/// The exchange currently using an origin connection. Called on the connection's event loop.
protocol OriginConnectionDelegate: AnyObject {
    func originReceived(_ event: OriginResponseEvent)
    func originReadComplete()
    func originWritabilityChanged(isWritable: Bool)
    /// The connection failed or closed; `error` is nil for a plain close.
    func originEnded(error: (any Error)?)
    /// Whether the client can take more response bytes now (backpressure).
    var mayReadOrigin: Bool { get }
}

/// The last handler of an origin connection: parses the origin's bytes in place
/// (`OriginResponseParser`) and hands the events to the leasing exchange, holds reads while
/// the client is not writable, and enforces the origin read timeout. While the connection
/// sits idle in the pool it has no delegate and only watches for close.
final class OriginConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var parser = OriginResponseParser()
    /// Bytes read but not yet parsed (a partial head or chunk line).
    private var unparsed = UnparsedBytes()

    private let readTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var lastActivity: NIODeadline = .now()
    private var timeoutTask: Scheduled<Void>?
    /// Called once when the channel closes; the pool uses it to forget the connection.
    var onClose: (() -> Void)?
    /// The pool's list for this connection's origin, once the connection has been pooled: it
    /// comes back to the same list without the pool hashing its key again.
    var idleList: OriginPool.IdleList?

    /// The exchange using the connection; nil while pooled. Held strongly: the exchange drops it
    /// whenever it lets the connection go, and a close, failure or read timeout drops it here.
    /// (A weak reference would give every client handler a side table, and every retain and
    /// release of it would take the runtime's slow path, several times per request.)
    private(set) var delegate: (any OriginConnectionDelegate)? {
        didSet { self.delegateChanges &+= 1 }
    }
    /// How many times `delegate` was set.
    private var delegateChanges: UInt = 0

    /// An exchange takes the connection at `now` (its clock reading, not one more): the read
    /// timeout counts from then.
    func attach(_ delegate: any OriginConnectionDelegate, now: NIODeadline) {
        self.delegate = delegate
        self.lastActivity = now
        self.armTimeout()
    }

    /// The exchange lets the connection go (back to the pool, or to be closed).
    func detach() {
        self.delegate = nil
    }

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    /// The origin's address as the access log shows it, made once per connection (reading a
    /// channel's address takes a lock, and formatting it allocates: not once per request).
    private(set) lazy var peerDescription: String? = self.context?.channel.remoteAddress.flatMap {
        IPAddress128($0)?.description
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.allocator = context.channel.allocator
    }

    /// The channel's allocator, read once.
    private var allocator = ByteBufferAllocator()

    func handlerRemoved(context: ChannelHandlerContext) {
        self.disarmTimeout()
        self.context = nil
    }

    /// Request heads are written into the same storage each time, once the last one is out.
    private var requestHeadBuffer = ReusableWriteBuffer()

    /// Writes a request head that `fill` writes into a buffer of at least `capacity` bytes.
    func writeRequestHead(capacity: Int, _ fill: (inout ByteBuffer) -> Void) {
        guard let context = self.context else { return }
        var buffer = self.requestHeadBuffer.take(capacity: capacity, allocator: self.allocator)
        fill(&buffer)
        context.write(OriginConnectionHandler.wrapOutboundOut(buffer), promise: nil)
        self.requestHeadBuffer.keep(buffer)
    }

    /// Writes request bytes from this handler's place in the pipeline (nothing is behind it).
    func write(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        self.context?.write(OriginConnectionHandler.wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        self.context?.flush()
    }

    /// A request is about to be written: its response is what comes next.
    func expectResponse(requestWasHEAD: Bool) {
        self.parser.expectResponse(requestWasHEAD: requestWasHEAD)
        self.setBulkReads(false)
    }

    /// Reads are sized for the body that comes: one read per readiness event for small
    /// messages (a second would only meet EAGAIN), larger and several for a big body.
    func setBulkReads(_ bulk: Bool) {
        guard bulk != self.bulkReads, let options = self.context?.channel.syncOptions else { return }
        self.bulkReads = bulk
        try? options.setOption(.maxMessagesPerRead, value: bulk ? UInt(4) : UInt(1))
        try? options.setOption(.recvAllocator, value: bulk ? Tunnel.bulkReads : Self.smallReads)
    }

    private var bulkReads = false
    private static let smallReads = AdaptiveRecvByteBufferAllocator()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unparsed.prepended(to: OriginConnectionHandler.unwrapInboundIn(data))
        do {
            // The exchange is read from `self.delegate` again only when an event changed it (it
            // let the connection go, or a pipelined request took it up): comparing references
            // would retain both, so the handler counts its changes instead.
            if var delegate = self.delegate {
                var changes = self.delegateChanges
                while let event = try self.parser.next(&buffer) {
                    delegate.originReceived(event)
                    if self.delegateChanges != changes {
                        guard let next = self.delegate else { break }
                        delegate = next
                        changes = self.delegateChanges
                    }
                }
            }
        } catch {
            self.fail(error, context: context)
            return
        }
        if self.delegate == nil {
            if buffer.readableBytes > 0, case .idle = self.parser.state {
                // An idle pooled connection must not speak: drop it.
                context.close(promise: nil)
                return
            }
        } else {
            // The response goes on (a read that ended it let the connection go, and its time
            // matters to nobody): the read timeout counts from this read.
            self.lastActivity = context.eventLoop.now
        }
        self.unparsed.keep(buffer)
    }

    /// Leaving the pipeline (a 101 turned the connection into a tunnel): the bytes behind the
    /// head belong to the new protocol and go on to the next handler.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if let unparsed = self.unparsed.take() {
            context.fireChannelRead(OriginConnectionHandler.wrapInboundOut(unparsed))
        }
        context.leavePipeline(removalToken: removalToken)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.originEnded(error: error)
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.delegate?.originReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.delegate?.originWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.disarmTimeout()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.originEnded(error: nil)
        self.onClose?()
        self.onClose = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The origin half-closed: for HTTP that is the end of the connection.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if let delegate = self.delegate, !delegate.mayReadOrigin {
            self.pendingRead = true
            return
        }
        context.read()
    }

    /// Called by the exchange when the client became writable again.
    func resumeReading() {
        guard self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }

    /// Marks the start of a request: the read timeout counts from now.
    func noteActivity() { self.lastActivity = self.context?.eventLoop.now ?? .now() }

    /// Timers are lazy: one check per read-timeout period at most, which re-arms itself while
    /// the connection is leased and lapses once it is pooled. No request pays for a timer.
    private func armTimeout() {
        guard self.timeoutTask == nil, let context = self.context else { return }
        self.scheduleTimeoutCheck(context: context, at: self.lastActivity + self.readTimeout)
    }

    private func disarmTimeout() {
        self.timeoutTask?.cancel()
        self.timeoutTask = nil
    }

    private func scheduleTimeoutCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timeoutTask = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.checkTimeout()
        }
    }

    private func checkTimeout() {
        self.timeoutTask = nil
        guard let context = self.context, let delegate = self.delegate else { return }
        // Reads held back for a slow client are not the origin's silence.
        if self.pendingRead { self.lastActivity = context.eventLoop.now }
        let expiry = self.lastActivity + self.readTimeout
        if expiry <= context.eventLoop.now {
            self.delegate = nil
            delegate.originEnded(error: OriginTimeoutError())
            context.close(promise: nil)
        } else {
            self.scheduleTimeoutCheck(context: context, at: expiry)
        }
    }
}

@available(*, unavailable)
extension OriginConnectionHandler: Sendable {}

/// The origin said nothing for longer than the read timeout.
struct OriginTimeoutError: Error, CustomStringConvertible {
    var description: String { "the origin did not answer in time" }
}
