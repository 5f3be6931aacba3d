import NIOCore
import NIOHTTP1

/// The encapsulated HTTP heads as bytes: parsing them into NIOHTTP1 heads and writing NIOHTTP1
/// heads out. A head on the wire is its start line, its field lines and the empty line, every line
/// ending in CRLF (c-icap and Squid both write them so).
public enum HTTPHeadBytes {
    /// Parses an HTTP request head (`req-hdr`), which must end with its empty line.
    ///
    /// - Throws: ``ICAPParseError`` saying where the head is malformed; never traps.
    public static func parseRequestHead(_ bytes: ByteBuffer) throws(ICAPParseError) -> HTTPRequestHead {
        let lines = try HTTPHeadLines(bytes, section: "req-hdr")
        let parts = lines.startLine.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(ASCII.isTokenByte), !parts[1].isEmpty,
            parts[1].allSatisfy(ASCII.isVisibleByte)
        else {
            throw .badHTTPHead(
                "req-hdr", offset: 0, "request line \(ICAPParseError.quoted(ASCII.string(lines.startLine)))")
        }
        let version = try Self.parseVersion(parts[2], section: "req-hdr", offset: parts[2].startIndex)
        return HTTPRequestHead(
            version: version, method: HTTPMethod(rawValue: ASCII.string(parts[0])), uri: ASCII.string(parts[1]),
            headers: lines.headers)
    }

    /// Parses an HTTP response head (`res-hdr`), which must end with its empty line.
    ///
    /// - Throws: ``ICAPParseError`` saying where the head is malformed; never traps.
    public static func parseResponseHead(_ bytes: ByteBuffer) throws(ICAPParseError) -> HTTPResponseHead {
        let lines = try HTTPHeadLines(bytes, section: "res-hdr")
        let line = lines.startLine
        let badLine = ICAPParseError.badHTTPHead(
            "res-hdr", offset: 0, "status line \(ICAPParseError.quoted(ASCII.string(line)))")
        guard let space = line.firstIndex(of: ASCII.space) else { throw badLine }
        let version = try Self.parseVersion(line[..<space], section: "res-hdr", offset: 0)
        let rest = line[(space + 1)...]
        guard rest.count >= 3, rest.prefix(3).allSatisfy(ASCII.isDigit),
            rest.count == 3 || rest[rest.startIndex + 3] == ASCII.space
        else { throw badLine }
        let code = rest.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard code >= 100 else { throw badLine }
        let reason = rest.dropFirst(4)
        guard reason.allSatisfy(ASCII.isFieldValueByte) else { throw badLine }
        return HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: code, reasonPhrase: ASCII.string(reason)),
            headers: lines.headers)
    }

    /// The bytes of a request head: request line, field lines, empty line.
    ///
    /// - Throws: ``ICAPEncoderError`` if the method, URI, a field name or value cannot be written
    ///   without breaking the framing.
    public static func serialize(_ head: HTTPRequestHead) throws(ICAPEncoderError) -> ByteBuffer {
        let method = head.method.rawValue
        guard ASCII.isToken(method) else { throw .invalidStartLine("the HTTP method \(ICAPParseError.quoted(method))") }
        guard !head.uri.isEmpty, head.uri.utf8.allSatisfy(ASCII.isVisibleByte) else {
            throw .invalidStartLine("the HTTP request target \(ICAPParseError.quoted(head.uri))")
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256)
        buffer.writeString(method)
        buffer.writeStaticString(" ")
        buffer.writeString(head.uri)
        Self.writeVersion(head.version, prefix: " HTTP/", suffix: "\r\n", into: &buffer)
        try Self.writeFields(head.headers, into: &buffer)
        return buffer
    }

    /// The bytes of a response head: status line, field lines, empty line.
    ///
    /// - Throws: ``ICAPEncoderError`` if the reason phrase, a field name or value cannot be written.
    public static func serialize(_ head: HTTPResponseHead) throws(ICAPEncoderError) -> ByteBuffer {
        let code = head.status.code
        let reason = head.status.reasonPhrase
        guard code >= 100, code <= 999, ASCII.isFieldValue(reason) else {
            throw .invalidStartLine("the HTTP status \(code) \(ICAPParseError.quoted(reason))")
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256)
        Self.writeVersion(head.version, prefix: "HTTP/", suffix: " ", into: &buffer)
        buffer.writeString(String(code))
        buffer.writeStaticString(" ")
        buffer.writeString(reason)
        buffer.writeStaticString("\r\n")
        try Self.writeFields(head.headers, into: &buffer)
        return buffer
    }

    private static func writeVersion(
        _ version: HTTPVersion, prefix: StaticString, suffix: StaticString, into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString(prefix)
        switch (version.major, version.minor) {
        case (1, 1): buffer.writeStaticString("1.1")
        case (1, 0): buffer.writeStaticString("1.0")
        default: buffer.writeString("\(version.major).\(version.minor)")
        }
        buffer.writeStaticString(suffix)
    }

    private static func writeFields(_ headers: HTTPHeaders, into buffer: inout ByteBuffer) throws(ICAPEncoderError) {
        for (name, value) in headers {
            guard ASCII.isToken(name), ASCII.isFieldValue(value) else { throw .invalidField(name: name) }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeString("\r\n")
    }

    private static func parseVersion(
        _ bytes: ArraySlice<UInt8>, section: String, offset: Int
    ) throws(ICAPParseError) -> HTTPVersion {
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8), ASCII.isDigit(bytes[bytes.startIndex + 5]),
            bytes[bytes.startIndex + 6] == UInt8(ascii: "."), ASCII.isDigit(bytes[bytes.startIndex + 7])
        else {
            throw .badHTTPHead(section, offset: offset, "version \(ICAPParseError.quoted(ASCII.string(bytes)))")
        }
        return HTTPVersion(
            major: Int(bytes[bytes.startIndex + 5] - UInt8(ascii: "0")),
            minor: Int(bytes[bytes.startIndex + 7] - UInt8(ascii: "0")))
    }
}
