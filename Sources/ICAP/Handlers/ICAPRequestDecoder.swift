import NIOCore

/// Decodes ICAP requests on the server side: bytes in, ``ICAPRequestPart``s out. Use it inside a
/// `ByteToMessageHandler`, placed after (nearer the tail than) the ``ICAPResponseEncoder``: it
/// watches the ``ICAPResponsePart``s written through it, to learn whether the server answered a
/// preview with `100 Continue` (more body follows) or with a final response (the request is over).
///
/// Errors are ``ICAPParseError``s; their ``ICAPParseError/status`` is the answer to send
/// (`400`, or `501` for an unknown method, `505` for another version) before closing.
public struct ICAPRequestDecoder: WriteObservingByteToMessageDecoder {
    /// What the decoder produces: request parts.
    public typealias InboundOut = ICAPRequestPart
    /// What the decoder watches being written: response parts.
    public typealias OutboundIn = ICAPResponsePart

    private var parser: ICAPRequestParser

    /// A decoder that refuses ICAP header blocks, and encapsulated HTTP heads, over
    /// `maxHeaderBytes` (64 KiB by default).
    public init(maxHeaderBytes: Int = 64 * 1024) {
        self.parser = ICAPRequestParser(maxHeaderBytes: maxHeaderBytes)
    }

    /// Decodes every part `buffer` holds, and fires each. (One call may end with a part that uses
    /// no bytes, such as the `.end` after a head without a body, so it does not stop at one.)
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let part = try self.parser.next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(part))
        }
        return .needMoreData
    }

    /// Decodes what is left when the input closes; a request cut short is an error
    /// (``ICAPParseError/Code/truncated``).
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        _ = try self.decode(context: context, buffer: &buffer)
        if seenEOF, let error = self.parser.truncation(buffered: buffer.readableBytes) { throw error }
        return .needMoreData
    }

    /// Notes each response head the server writes.
    public mutating func write(data: ICAPResponsePart) {
        if case .head(let head, _) = data {
            self.parser.responseWritten(statusCode: head.statusCode)
        }
    }

    /// Tells the decoder what the server answered (for use without a pipeline): `100` lets the body
    /// continue after a preview; a final status ends the request there.
    public mutating func responseWritten(statusCode: Int) {
        self.parser.responseWritten(statusCode: statusCode)
    }
}
