import NIOCore

/// Encodes ICAP requests on the client side: ``ICAPRequestPart``s in, bytes out.
///
/// A `.head` is written with an `Encapsulated` header whose offsets are computed from the heads
/// it carries; `.body` parts become chunks; `.previewEnd(ieof:)` writes `0; ieof` or `0`; `.end`
/// writes the last chunk (`0; ieof` when the body ends inside a preview). After
/// `.previewEnd(ieof: false)`, write the rest of the body and `.end` only if the server answers
/// `100 Continue`; after a final answer, go on with the next `.head`.
///
/// A part out of order, preview data beyond the `Preview` header, or a header that would break
/// the framing fails the write's promise with an ``ICAPEncoderError``.
public final class ICAPRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    /// What the encoder takes: request parts.
    public typealias OutboundIn = ICAPRequestPart
    /// What the encoder writes: bytes.
    public typealias OutboundOut = ByteBuffer

    private var framer = ICAPBodyFramer()

    /// An encoder.
    public init() {}

    /// Encodes one part.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do throws(ICAPEncoderError) {
            switch ICAPRequestEncoder.unwrapOutboundIn(data) {
            case .head(let head, let heads):
                let preview = try Self.preview(head)
                var buffer = context.channel.allocator.buffer(capacity: 256)
                try ICAPHeadSerializer.write(head, heads, into: &buffer)
                try self.framer.head(hasBody: heads.hasBody, preview: preview)
                context.write(ICAPRequestEncoder.wrapOutboundOut(buffer), promise: promise)
            case .body(let data):
                ICAPChunkWriter.perform(try self.framer.body(data), context: context, promise: promise)
            case .previewEnd(let ieof):
                ICAPChunkWriter.perform(try self.framer.previewEnd(ieof: ieof), context: context, promise: promise)
            case .end:
                ICAPChunkWriter.perform(try self.framer.end(), context: context, promise: promise)
            }
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }

    private static func preview(_ head: ICAPRequestHead) throws(ICAPEncoderError) -> Int? {
        guard head.headers.contains(name: "Preview") else { return nil }
        guard head.headers.values(name: "Preview").count == 1, let preview = head.preview, preview >= 0 else {
            throw .invalidField(name: "Preview")
        }
        return preview
    }
}

@available(*, unavailable)
extension ICAPRequestEncoder: Sendable {}

/// Carries out an ``ICAPBodyFramer`` action on a channel.
enum ICAPChunkWriter {
    static func perform(
        _ action: ICAPBodyFramer.Action, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        switch action {
        case .none:
            promise?.succeed()
        case .bytes(let bytes):
            context.write(NIOAny(bytes), promise: promise)
        case .chunk(let sizeLine, let data):
            context.write(NIOAny(sizeLine), promise: nil)
            context.write(NIOAny(data), promise: nil)
            context.write(NIOAny(ByteBuffer(staticString: "\r\n")), promise: promise)
        }
    }
}
