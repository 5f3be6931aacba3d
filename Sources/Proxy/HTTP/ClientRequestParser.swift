import NIOCore
import NIOHTTP1

/// What the parser found next in a client's bytes.
enum ClientRequestEvent {
    /// A request head: its line decoded, its field lines as bytes, the facts of its fields.
    case head(ClientRequestHead)
    /// Body bytes, de-chunked.
    case body(ByteBuffer)
    case end
}

/// HTTP/1.1 request parsing over raw bytes (RFC 9112): request line, field lines, and body
/// framing, one event at a time, several requests in a row (pipelining). Pure: the
/// `ClientConnectionHandler` feeds it what the socket delivers.
///
/// After a CONNECT head, or the end of a request that asks to switch protocols, the bytes
/// belong to the tunnel: the parser stops and leaves them in the buffer.
struct ClientRequestParser {
    enum State {
        case head
        /// The body (possibly none) until its end; then the next head, or `stopped`.
        case body(MessageBodyReader, switchesProtocols: Bool)
        /// The connection is no longer HTTP (CONNECT, Upgrade): bytes are left alone.
        case stopped
        case failed
    }

    private(set) var state: State = .head
    let maxHeadBytes: Int
    private var headEnd = HeadEndScanner()

    init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Between requests, or inside a head: what the buffer holds is (part of) the next head.
    var isReadingHead: Bool {
        if case .head = self.state { return true }
        return false
    }

    /// The connection gave up on the request (its head took too long): nothing more is parsed.
    mutating func abandon() {
        self.state = .failed
    }

    /// The next event from `buffer` (consuming what it uses), or nil when more bytes are needed
    /// (or, once stopped, never).
    mutating func next(_ buffer: inout ByteBuffer) throws(ClientRequestError) -> ClientRequestEvent? {
        switch self.state {
        case .stopped:
            return nil
        case .failed:
            throw ClientRequestError(.afterError)
        case .head:
            guard let head = try self.parseHead(&buffer) else { return nil }
            if head.method.isCONNECT {
                self.state = .body(MessageBodyReader(.none), switchesProtocols: true)
                return .head(head)
            }
            let framing: BodyFraming
            switch head.fields.requestFraming() {
            case .success(let value): framing = value
            case .failure(let error): throw self.fail(.badFraming(error.description))
            }
            self.state = .body(MessageBodyReader(framing), switchesProtocols: head.fields.upgradeProtocol != nil)
            return .head(head)
        case .body(var reader, let switchesProtocols):
            let event: MessageBodyReader.Event?
            do {
                event = try reader.next(&buffer)
            } catch {
                throw self.fail(.badChunk(error.detail))
            }
            switch event {
            case .body(let bytes):
                self.state = .body(reader, switchesProtocols: switchesProtocols)
                return .body(bytes)
            case .end:
                self.state = switchesProtocols ? .stopped : .head
                return .end
            case nil:
                self.state = .body(reader, switchesProtocols: switchesProtocols)
                return nil
            }
        }
    }

    fileprivate mutating func fail(_ kind: ClientRequestError.Kind) -> ClientRequestError {
        self.state = .failed
        return ClientRequestError(kind)
    }

    private mutating func parseHead(
        _ buffer: inout ByteBuffer
    ) throws(ClientRequestError) -> ClientRequestHead? {
        let length: Int
        switch self.headEnd.headLength(in: &buffer, maxHeadBytes: self.maxHeadBytes) {
        case .success(.some(let value)): length = value
        case .success(.none): return nil
        case .failure: throw self.fail(.headTooLarge(self.maxHeadBytes))
        }
        let headBytes = buffer.readSlice(length: length)!
        switch headBytes.withUnsafeReadableBytes({ Self.parseHeadBytes($0) }) {
        case .success(let (line, fields, fieldLinesStart)):
            // The field lines stay a view of the bytes read: they are forwarded as they came.
            let fieldLines = headBytes.getSlice(
                at: headBytes.readerIndex + fieldLinesStart, length: length - fieldLinesStart)!
            return ClientRequestHead(
                method: line.method, uri: line.uri, version: line.version, fields: fields, fieldLines: fieldLines)
        case .failure(let kind):
            throw self.fail(kind)
        }
    }

    /// The request line, the facts of the field lines, and where the field lines start.
    fileprivate static func parseHeadBytes(
        _ all: UnsafeRawBufferPointer
    ) -> Result<
        ((method: HTTPMethod, uri: String, version: HTTPVersion), HeadFields, fieldLinesStart: Int),
        ClientRequestError.Kind
    > {
        // request-line = method SP request-target SP HTTP-version
        guard let firstNewline = FieldLineSyntax.firstIndex(of: UInt8(ascii: "\n"), in: all, from: 0, to: all.count)
        else { return .failure(.badRequestLine) }
        let lineEnd = firstNewline > 0 && all[firstNewline - 1] == UInt8(ascii: "\r") ? firstNewline - 1 : firstNewline
        let line = all[0..<lineEnd]
        // (The last space is looked for from the end, where the version is.)
        guard let firstSpace = FieldLineSyntax.firstIndex(of: UInt8(ascii: " "), in: all, from: 0, to: lineEnd),
            let lastSpace = line.lastIndex(of: UInt8(ascii: " ")), lastSpace > firstSpace + 1
        else { return .failure(.badRequestLine) }
        let method = line[0..<firstSpace]
        let target = line[(firstSpace + 1)..<lastSpace]
        let version = line[(lastSpace + 1)...]
        guard !method.isEmpty, method.allSatisfy(FieldLineSyntax.isTokenByte) else {
            return .failure(.badRequestLine)
        }
        // request-target: visible characters only (no white space, no controls); obs-text is
        // let through, as browsers send raw UTF-8 in paths.
        guard target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return .failure(.badRequestLine) }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT; the planner refuses majors other than 1.
        guard version.count == 8, FieldLineSyntax.hasPrefix(version, "HTTP/"), version[version.startIndex + 6] == 0x2E,
            let major = Self.digit(version[version.startIndex + 5]),
            let minor = Self.digit(version[version.startIndex + 7])
        else { return .failure(.badRequestLine) }

        var fields = HeadFields()
        guard
            FieldLineSyntax.parse(
                all, from: firstNewline + 1, removesSpaceBeforeColon: false,
                { name, value in fields.note(name: name, value: value) }) != nil
        else { return .failure(.badField) }
        fields.finish()
        // The target becomes a `String` (the planner, the policy and the log read it as one): a
        // target that is not UTF-8 would be changed by that, so it is refused, not rewritten.
        guard let uri = Self.string(UnsafeRawBufferPointer(rebasing: target)) else {
            return .failure(.targetNotUTF8)
        }
        let requestLine = (method: Self.method(method), uri: uri, version: HTTPVersion(major: major, minor: minor))
        return .success((requestLine, fields, firstNewline + 1))
    }

    /// The target's bytes as a `String`, or nil if they are not UTF-8. ASCII, which is what
    /// clients send (they percent-encode the rest), is taken as it is; other bytes go through
    /// the standard library's validation (whose generic path looks up type metadata).
    private static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        if units.allSatisfy({ $0 < 0x80 }) { return String(decoding: units, as: UTF8.self) }
        return String(validating: units, as: UTF8.self)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// The method, matched without allocating for the common ones (methods are case-sensitive).
    private static func method(_ bytes: FieldLineSyntax.Bytes) -> HTTPMethod {
        func named(_ name: StaticString) -> Bool {
            name.withUTF8Buffer { bytes.elementsEqual($0) }
        }
        switch bytes.count {
        case 3:
            if named("GET") { return .GET }
            if named("PUT") { return .PUT }
        case 4:
            if named("POST") { return .POST }
            if named("HEAD") { return .HEAD }
        case 5:
            if named("PATCH") { return .PATCH }
            if named("TRACE") { return .TRACE }
        case 6:
            if named("DELETE") { return .DELETE }
        case 7:
            if named("OPTIONS") { return .OPTIONS }
            if named("CONNECT") { return .CONNECT }
        default:
            break
        }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }
}

/// A request the proxy cannot read; the client gets a 400 (or a 431 for a head too large).
struct ClientRequestError: Error, CustomStringConvertible, Equatable {
    fileprivate enum Kind: Error, Equatable {
        case badRequestLine, targetNotUTF8, badField, badFraming(String), badChunk(String), headTooLarge(Int)
        case afterError
    }
    fileprivate let kind: Kind
    fileprivate init(_ kind: Kind) { self.kind = kind }

    var isHeadTooLarge: Bool {
        if case .headTooLarge = self.kind { return true }
        return false
    }

    var description: String {
        switch self.kind {
        case .badRequestLine: return "malformed request line"
        case .targetNotUTF8: return "request target is not UTF-8 (non-ASCII bytes in a URL must be percent-encoded)"
        case .badField: return "malformed header field"
        case .badFraming(let detail): return "invalid request framing: \(detail)"
        case .badChunk(let detail): return "malformed chunked body: \(detail)"
        case .headTooLarge(let limit): return "request head larger than \(limit) bytes"
        case .afterError: return "the request stream was already malformed"
        }
    }
}
