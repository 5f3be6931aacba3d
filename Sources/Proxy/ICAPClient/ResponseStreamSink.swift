import NIOCore

/// Where a response streams to as it arrives: the client's side of the exchange, or the next
/// RESPMOD service in the chain. Loop-bound.
protocol ResponseStreamSink: AnyObject {
    func streamHead(_ head: OriginResponseHead)
    func streamBody(_ buffer: ByteBuffer)
    func streamEnd()
    /// The response cannot be completed as it began: a sink that has passed nothing on yet
    /// answers with a 503 page (`reason` on it), one that has aborts.
    func streamFailed(_ reason: String)
    /// Whether more body can be taken now (backpressure).
    var mayTakeResponseBody: Bool { get }
}
