import NIOCore

/// Decodes ICAP responses on the client side: bytes in, ``ICAPResponsePart``s out. Use it inside
/// a `ByteToMessageHandler`, placed after (nearer the tail than) the ``ICAPRequestEncoder``: it
/// watches the ``ICAPRequestPart``s written through it and expects one response per request head,
/// in order, for that request's method.
///
/// Errors are ``ICAPParseError``s. A response with no request outstanding is
/// ``ICAPParseError/Code/unsolicitedResponse``; a `200`/`204` without `ISTag` is
/// ``ICAPParseError/Code/missingISTag`` (a server to treat as broken, not a garbled stream).
public struct ICAPResponseDecoder: WriteObservingByteToMessageDecoder {
    /// What the decoder produces: response parts.
    public typealias InboundOut = ICAPResponsePart
    /// What the decoder watches being written: request parts.
    public typealias OutboundIn = ICAPRequestPart

    private var parser: ICAPResponseParser

    /// A decoder that refuses ICAP header blocks, and encapsulated HTTP heads, over
    /// `maxHeaderBytes` (64 KiB by default).
    ///
    /// - Parameter expecting: methods of requests already sent without passing through this
    ///   decoder's handler, oldest first.
    public init(maxHeaderBytes: Int = 64 * 1024, expecting: [ICAPMethod] = []) {
        self.parser = ICAPResponseParser(maxHeaderBytes: maxHeaderBytes)
        for method in expecting { self.parser.expectResponse(to: method) }
    }

    /// A request with `method` was sent: its response comes after those already expected.
    public mutating func expectResponse(to method: ICAPMethod) {
        self.parser.expectResponse(to: method)
    }

    /// Decodes every part `buffer` holds, and fires each. (One call may end with a part that uses
    /// no bytes, such as the `.end` after a head without a body, so it does not stop at one.)
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let part = try self.parser.next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(part))
        }
        return .needMoreData
    }

    /// Decodes what is left when the input closes; a response cut short is an error
    /// (``ICAPParseError/Code/truncated``).
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        _ = try self.decode(context: context, buffer: &buffer)
        if seenEOF, let error = self.parser.truncation(buffered: buffer.readableBytes) { throw error }
        return .needMoreData
    }

    /// Notes the method of each request head written.
    public mutating func write(data: ICAPRequestPart) {
        if case .head(let head, _) = data {
            self.parser.expectResponse(to: head.method)
        }
    }
}
