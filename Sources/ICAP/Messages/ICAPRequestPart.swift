import NIOCore

/// One part of an ICAP request as it streams through a pipeline, like NIOHTTP1's
/// `HTTPServerRequestPart`.
///
/// A request is `.head`, then `.body` parts (de-chunked data, possibly none), then `.end`. A
/// request without a body section (`null-body`) is `.head` then `.end`. A request with a
/// `Preview` header and a body ends its preview with `.previewEnd(ieof:)`:
/// - `ieof: true`: the whole body was in the preview; `.end` follows at once.
/// - `ieof: false`: if the server answers `100 Continue`, the rest of the body follows as `.body`
///   parts and `.end`; if it answers with a final response instead, the request ends there (no
///   `.end`) and the next part is the next request's `.head`.
public enum ICAPRequestPart: Sendable, Equatable {
    /// The ICAP head and the encapsulated HTTP heads (boxed, so a part fits in a pipeline's
    /// inline storage).
    indirect case head(ICAPRequestHead, ICAPEncapsulatedHeads)
    /// Body data, de-chunked.
    case body(ByteBuffer)
    /// The end of the preview: the zero chunk, with `; ieof` when the body ended inside it.
    case previewEnd(ieof: Bool)
    /// The end of the request.
    case end
}
