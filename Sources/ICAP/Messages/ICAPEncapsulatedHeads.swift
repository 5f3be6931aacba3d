import NIOCore
import NIOHTTP1

/// The encapsulated part of an ICAP message before its body: the `Encapsulated` header and the
/// HTTP request and response heads it locates, both as the bytes on the wire (CRLF CRLF
/// included) and parsed.
///
/// Decoders fill it from the wire. To send a message, build it from NIOHTTP1 heads or from raw
/// head bytes; the encoders lay the heads out and write an `Encapsulated` header with exact
/// offsets, whatever offsets this value carries.
public struct ICAPEncapsulatedHeads: Sendable, Equatable {
    /// The sections: which heads there are, where they start, and the kind of body.
    public let encapsulated: Encapsulated
    /// The HTTP request head exactly as on the wire (`req-hdr`), or nil.
    public let requestHeadBytes: ByteBuffer?
    /// The HTTP response head exactly as on the wire (`res-hdr`), or nil.
    public let responseHeadBytes: ByteBuffer?
    /// The HTTP request head, parsed.
    public let request: HTTPRequestHead?
    /// The HTTP response head, parsed.
    public let response: HTTPResponseHead?

    /// No heads and no body (`null-body=0`): OPTIONS requests, `100`, `204`, most errors.
    public static let none = ICAPEncapsulatedHeads(
        encapsulated: .nullBody, requestHeadBytes: nil, responseHeadBytes: nil, request: nil, response: nil)

    /// Heads from NIOHTTP1 values, written out with ``HTTPHeadBytes``.
    ///
    /// - Parameter body: the kind of body that will follow (`.nullBody` for none).
    /// - Throws: ``ICAPEncoderError`` if a head cannot be written without breaking the framing.
    public init(
        request: HTTPRequestHead? = nil, response: HTTPResponseHead? = nil, body: Encapsulated.BodySection
    ) throws(ICAPEncoderError) {
        let requestBytes = try request.map { head throws(ICAPEncoderError) in try HTTPHeadBytes.serialize(head) }
        let responseBytes = try response.map { head throws(ICAPEncoderError) in try HTTPHeadBytes.serialize(head) }
        self.init(
            encapsulated: Encapsulated(
                requestHeaderLength: requestBytes?.readableBytes, responseHeaderLength: responseBytes?.readableBytes,
                bodySection: body),
            requestHeadBytes: requestBytes, responseHeadBytes: responseBytes, request: request, response: response)
    }

    /// Heads from their bytes, which are parsed (and so checked) here.
    ///
    /// - Parameter body: the kind of body that will follow (`.nullBody` for none).
    /// - Throws: ``ICAPParseError`` if a head is malformed.
    public init(
        requestHeadBytes: ByteBuffer?, responseHeadBytes: ByteBuffer?, body: Encapsulated.BodySection
    ) throws(ICAPParseError) {
        let request = try requestHeadBytes.map { bytes throws(ICAPParseError) in
            try HTTPHeadBytes.parseRequestHead(bytes)
        }
        let response = try responseHeadBytes.map { bytes throws(ICAPParseError) in
            try HTTPHeadBytes.parseResponseHead(bytes)
        }
        self.init(
            encapsulated: Encapsulated(
                requestHeaderLength: requestHeadBytes?.readableBytes,
                responseHeaderLength: responseHeadBytes?.readableBytes, bodySection: body),
            requestHeadBytes: requestHeadBytes, responseHeadBytes: responseHeadBytes, request: request,
            response: response)
    }

    /// Heads from bytes the caller has already checked (its own serializer's, or a parser's that
    /// validated them): not parsed again, so `request` and `response` are nil.
    ///
    /// - Parameter body: the kind of body that will follow (`.nullBody` for none).
    public init(
        checkedRequestHeadBytes: ByteBuffer?, checkedResponseHeadBytes: ByteBuffer?, body: Encapsulated.BodySection
    ) {
        self.init(
            encapsulated: Encapsulated(
                requestHeaderLength: checkedRequestHeadBytes?.readableBytes,
                responseHeaderLength: checkedResponseHeadBytes?.readableBytes, bodySection: body),
            requestHeadBytes: checkedRequestHeadBytes, responseHeadBytes: checkedResponseHeadBytes, request: nil,
            response: nil)
    }

    init(
        encapsulated: Encapsulated, requestHeadBytes: ByteBuffer?, responseHeadBytes: ByteBuffer?,
        request: HTTPRequestHead?, response: HTTPResponseHead?
    ) {
        self.encapsulated = encapsulated
        self.requestHeadBytes = requestHeadBytes
        self.responseHeadBytes = responseHeadBytes
        self.request = request
        self.response = response
    }

    /// Whether a chunked body follows the heads.
    public var hasBody: Bool { self.encapsulated.hasBody }

    /// The `Encapsulated` value for these heads laid out from offset 0, as an encoder writes it.
    var laidOut: Encapsulated {
        Encapsulated(
            requestHeaderLength: self.requestHeadBytes?.readableBytes,
            responseHeaderLength: self.responseHeadBytes?.readableBytes, bodySection: self.encapsulated.bodySection)
    }
}
