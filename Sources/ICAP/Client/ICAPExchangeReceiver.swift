import NIOCore

/// Whoever streams an exchange through an ``ICAPClientHandler``: it writes the request's parts
/// with `writeBody`/`endPreview`/`end` and is told, in order, what the service answers.
///
/// Exactly one of `icapExchangeEnded` and `icapExchangeFailed` ends every exchange.
/// Called on the connection's event loop.
public protocol ICAPExchangeReceiver: AnyObject {
    /// `100 Continue` to the preview: write the rest of the body, then `end()`.
    func icapContinue()
    /// The final answer's head (a `204` or `200` typically; any status the service sent).
    func icapResponseHead(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads)
    /// A part of the answer's body, de-chunked.
    func icapResponseBody(_ buffer: ByteBuffer)
    /// The answer is complete.
    func icapExchangeEnded()
    /// The exchange failed; the connection is closed.
    func icapExchangeFailed(_ error: ICAPClientError)
    /// The connection's writability changed (backpressure on what the receiver writes).
    func icapWritabilityChanged(isWritable: Bool)
    /// Whether the receiver can take more of the answer now (backpressure on reads).
    var icapMayRead: Bool { get }
}
