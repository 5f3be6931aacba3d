import NIOCore

/// The `Encapsulated` header (RFC 3507 §4.4.1): which parts of an HTTP message an ICAP message
/// carries, and where each starts, in bytes from the start of the ICAP message body.
///
/// Sections come in this order: an optional `req-hdr`, an optional `res-hdr`, then exactly one
/// body section: `req-body`, `res-body`, `opt-body`, or `null-body` (no body; its offset is where
/// the heads end). For example `req-hdr=0, res-hdr=108, res-body=220`.
public struct Encapsulated: Hashable, Sendable, CustomStringConvertible {
    /// The section that ends the list: a chunked body of some kind, or none.
    public enum BodySection: String, Hashable, Sendable, CaseIterable {
        /// A chunked HTTP request body.
        case requestBody = "req-body"
        /// A chunked HTTP response body.
        case responseBody = "res-body"
        /// A chunked OPTIONS body.
        case optionsBody = "opt-body"
        /// No body.
        case nullBody = "null-body"
    }

    /// Where the HTTP request head starts, if there is one.
    public let requestHeaderOffset: Int?
    /// Where the HTTP response head starts, if there is one.
    public let responseHeaderOffset: Int?
    /// The kind of body.
    public let bodySection: BodySection
    /// Where the body starts; for `null-body`, where the heads end.
    public let bodyOffset: Int

    /// No heads and no body: `null-body=0` (OPTIONS requests, `100`, `204`, errors).
    public static let nullBody = Encapsulated(
        requestHeaderLength: nil, responseHeaderLength: nil, bodySection: .nullBody)

    /// The sections for heads of the given lengths, laid out one after the other from offset 0.
    /// A head of length 0 or nil is left out.
    public init(requestHeaderLength: Int?, responseHeaderLength: Int?, bodySection: BodySection) {
        var offset = 0
        if let length = requestHeaderLength, length > 0 {
            self.requestHeaderOffset = offset
            offset += length
        } else {
            self.requestHeaderOffset = nil
        }
        if let length = responseHeaderLength, length > 0 {
            self.responseHeaderOffset = offset
            offset += length
        } else {
            self.responseHeaderOffset = nil
        }
        self.bodySection = bodySection
        self.bodyOffset = offset
    }

    /// Whether a chunked body follows the heads.
    public var hasBody: Bool { self.bodySection != .nullBody }

    /// The length of the HTTP request head, from the offsets.
    public var requestHeaderLength: Int? {
        self.requestHeaderOffset.map { (self.responseHeaderOffset ?? self.bodyOffset) - $0 }
    }

    /// The length of the HTTP response head, from the offsets.
    public var responseHeaderLength: Int? {
        self.responseHeaderOffset.map { self.bodyOffset - $0 }
    }

    /// The header value, e.g. `req-hdr=0, res-hdr=108, res-body=220`.
    public var headerValue: String {
        var entries: [String] = []
        if let offset = self.requestHeaderOffset { entries.append("req-hdr=\(offset)") }
        if let offset = self.responseHeaderOffset { entries.append("res-hdr=\(offset)") }
        entries.append("\(self.bodySection.rawValue)=\(self.bodyOffset)")
        return entries.joined(separator: ", ")
    }

    /// The header value.
    public var description: String { self.headerValue }

    /// Writes the header value (what `headerValue` says) without building it first.
    func write(into buffer: inout ByteBuffer) {
        if let offset = self.requestHeaderOffset {
            buffer.writeStaticString("req-hdr=")
            buffer.writeString(String(offset))
            buffer.writeStaticString(", ")
        }
        if let offset = self.responseHeaderOffset {
            buffer.writeStaticString("res-hdr=")
            buffer.writeString(String(offset))
            buffer.writeStaticString(", ")
        }
        buffer.writeString(self.bodySection.rawValue)
        buffer.writeStaticString("=")
        buffer.writeString(String(self.bodyOffset))
    }

    init(requestHeaderOffset: Int?, responseHeaderOffset: Int?, bodySection: BodySection, bodyOffset: Int) {
        self.requestHeaderOffset = requestHeaderOffset
        self.responseHeaderOffset = responseHeaderOffset
        self.bodySection = bodySection
        self.bodyOffset = bodyOffset
    }
}
