import NIOCore

/// One part of an ICAP response as it streams through a pipeline, like NIOHTTP1's
/// `HTTPClientResponsePart`.
///
/// A response is `.head`, then `.body` parts (de-chunked data, possibly none), then `.end`. A
/// response without a body section (`null-body`, and every `100 Continue` and `204`) is `.head`
/// then `.end`. After a `100 Continue` (`.head`, `.end`) the final response to the same request
/// follows.
public enum ICAPResponsePart: Sendable, Equatable {
    /// The ICAP head and the encapsulated HTTP heads (boxed, so a part fits in a pipeline's
    /// inline storage).
    indirect case head(ICAPResponseHead, ICAPEncapsulatedHeads)
    /// Body data, de-chunked.
    case body(ByteBuffer)
    /// The end of the response.
    case end
}
