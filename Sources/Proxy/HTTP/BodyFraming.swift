import NIOHTTP1

/// How the end of a message body is found on one side of the proxy.
enum BodyFraming: Equatable, Sendable {
    /// No body at all.
    case none
    case contentLength(Int64)
    case chunked
    /// The body ends when the sender closes the connection (responses only).
    case untilClose

    var isReadUntilClose: Bool { self == .untilClose }
}

/// The framing problems that make a request unacceptable (RFC 9112 §6.3: smuggling defences).
struct FramingError: Error, Equatable, Sendable, CustomStringConvertible {
    let description: String
}

extension HTTPHeaders {
    /// The single Content-Length value, or nil if absent. Several equal values count as one;
    /// differing or malformed ones are an error.
    func contentLength() throws(FramingError) -> Int64? {
        var value: Int64?
        for field in self[canonicalForm: "content-length"] {
            guard !field.isEmpty, field.utf8.count <= 18, field.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let parsed = Int64(field)
            else { throw FramingError(description: "malformed Content-Length '\(field)'") }
            if let value, value != parsed { throw FramingError(description: "conflicting Content-Length values") }
            value = parsed
        }
        return value
    }

    /// True if Transfer-Encoding is present; throws unless its final coding is `chunked`.
    func isChunked() throws(FramingError) -> Bool {
        let codings = self[canonicalForm: "transfer-encoding"]
        guard let last = codings.last else { return false }
        guard last.lowercased() == "chunked" else {
            throw FramingError(description: "Transfer-Encoding must end with chunked")
        }
        return true
    }

    /// The framing of a request body as sent by the client.
    func requestFraming() throws(FramingError) -> BodyFraming {
        let chunked = try self.isChunked()
        let length = try self.contentLength()
        if chunked, length != nil {
            throw FramingError(description: "both Content-Length and Transfer-Encoding")
        }
        if chunked { return .chunked }
        if let length { return length == 0 ? .none : .contentLength(length) }
        return .none
    }

    /// The framing of a response body as sent by the origin.
    func responseFraming(status: HTTPResponseStatus, requestMethod: HTTPMethod) -> BodyFraming {
        if requestMethod == .HEAD || status.code < 200 || status == .noContent || status == .notModified {
            return .none
        }
        if (try? self.isChunked()) == true { return .chunked }
        if let length = try? self.contentLength() { return .contentLength(length) }
        return .untilClose
    }
}
