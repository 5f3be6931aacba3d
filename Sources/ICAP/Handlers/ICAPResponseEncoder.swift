import NIOCore

/// Encodes ICAP responses on the server side: ``ICAPResponsePart``s in, bytes out.
///
/// A `.head` is written with an `Encapsulated` header whose offsets are computed from the heads
/// it carries, except for `100 Continue`, written as a bare status line as c-icap does. A `100`
/// or `204` carries no heads and no body (``ICAPEncapsulatedHeads/none``) and is followed by
/// `.end`. `.body` parts become chunks and `.end` writes the last chunk.
///
/// The encoder adds no headers of its own but `Encapsulated`: RFC 3507 §4.7 wants `ISTag` on
/// every response, and ``ICAPResponseDecoder`` refuses a `200` or `204` without it, so set it
/// (``ICAPResponseHead/istag``). A part out of order, or a header that would break the framing,
/// fails the write's promise with an ``ICAPEncoderError``.
public final class ICAPResponseEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    /// What the encoder takes: response parts.
    public typealias OutboundIn = ICAPResponsePart
    /// What the encoder writes: bytes.
    public typealias OutboundOut = ByteBuffer

    private var framer = ICAPBodyFramer()

    /// An encoder.
    public init() {}

    /// Encodes one part.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do throws(ICAPEncoderError) {
            switch ICAPResponseEncoder.unwrapOutboundIn(data) {
            case .head(let head, let heads):
                let bare = head.statusCode == 100 || head.statusCode == 204
                if bare && heads != .none { throw .continueWithMessage }
                var buffer = context.channel.allocator.buffer(capacity: 256)
                try ICAPHeadSerializer.write(head, heads, writeEncapsulated: head.statusCode != 100, into: &buffer)
                try self.framer.head(hasBody: heads.hasBody, preview: nil)
                context.write(ICAPResponseEncoder.wrapOutboundOut(buffer), promise: promise)
            case .body(let data):
                ICAPChunkWriter.perform(try self.framer.body(data), context: context, promise: promise)
            case .end:
                ICAPChunkWriter.perform(try self.framer.end(), context: context, promise: promise)
            }
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}

@available(*, unavailable)
extension ICAPResponseEncoder: Sendable {}
