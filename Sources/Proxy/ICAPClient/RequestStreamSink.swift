import NIOCore
import NIOHTTP1

/// Where a request with a body streams to once a REQMOD service has had its say: the next
/// service in the chain, or the client's side of the exchange (which forwards it). Loop-bound.
protocol RequestStreamSink: AnyObject {
    /// The request goes on with this head (`modified`: a service changed it); body parts
    /// follow when `hasBody`, then `requestEnd` in any case.
    func requestHead(_ head: HTTPRequestHead, modified: Bool, hasBody: Bool)
    func requestBody(_ buffer: ByteBuffer)
    func requestEnd()
    /// A service answered the client itself (request satisfaction: a block page, typically).
    func requestSatisfied(_ head: HTTPResponseHead, body: ByteBuffer)
    /// An essential service failed, or one failed once the request had begun to go on.
    func requestFailed(_ reason: String)
    /// Whether more body can be taken now (backpressure).
    var mayTakeRequestBody: Bool { get }
}
