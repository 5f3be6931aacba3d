/// Why bytes could not be decoded as ICAP. Descriptions are precise (which header, which offset,
/// which chunk size); ``code`` names the kind of problem for callers that branch on it, and
/// ``status`` is the answer a server gives a client that sent it.
///
/// Offsets in descriptions count from the start of the ICAP message for its header block, and
/// from the start of the encapsulated data (where `Encapsulated` offsets count from) after it.
public struct ICAPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case headerTooLarge(limit: Int)
        case bareLineFeed(offset: Int)
        case badStartLine(line: String)
        case unknownMethod(String)
        case unsupportedVersion(String)
        case badHeaderLine(offset: Int, line: String)
        case duplicateHeader(String)
        case missingHeader(String)
        case badHeaderValue(name: String, value: String)
        case badEncapsulated(value: String, problem: String)
        case sectionNotAllowed(section: String, message: String)
        case bodyNotAllowed(status: Int)
        case encapsulatedTooLarge(offset: Int, limit: Int)
        case headOffsetMismatch(section: String, problem: String)
        case badHTTPHead(section: String, offset: Int, problem: String)
        case badChunkSize(line: String, offset: Int)
        case chunkTooLarge(line: String, offset: Int)
        case chunkLineTooLong(offset: Int, limit: Int)
        case missingChunkCRLF(size: Int, offset: Int)
        case badChunkLine(offset: Int, problem: String)
        case previewTooLong(limit: Int)
        case missingISTag(status: Int)
        case unsolicitedResponse(bytes: Int)
        case dataBeforeAnswer(bytes: Int)
        case truncated(inside: String)
    }

    private let kind: Kind
    private init(_ kind: Kind) { self.kind = kind }

    /// The ICAP header block (start line and fields) grew past the configured limit.
    static func headerTooLarge(limit: Int) -> Self { Self(.headerTooLarge(limit: limit)) }
    /// A line of the ICAP header ended in a bare LF; ICAP peers (c-icap, Squid) end every line in CRLF.
    static func bareLineFeed(offset: Int) -> Self { Self(.bareLineFeed(offset: offset)) }
    /// The request or status line is not `METHOD SP URI SP ICAP/1.0` / `ICAP/1.0 SP code SP reason`.
    static func badStartLine(_ line: String) -> Self { Self(.badStartLine(line: line)) }
    /// A well-formed request line with a method other than OPTIONS, REQMOD, RESPMOD.
    static func unknownMethod(_ method: String) -> Self { Self(.unknownMethod(method)) }
    /// A version other than `ICAP/1.0`.
    static func unsupportedVersion(_ version: String) -> Self { Self(.unsupportedVersion(version)) }
    /// A header line that is not `name: value` (or is folded, or holds control bytes).
    static func badHeaderLine(offset: Int, line: String) -> Self { Self(.badHeaderLine(offset: offset, line: line)) }
    /// A header that may occur once occurred twice.
    static func duplicateHeader(_ name: String) -> Self { Self(.duplicateHeader(name)) }
    /// A required header is missing.
    static func missingHeader(_ name: String) -> Self { Self(.missingHeader(name)) }
    /// A header's value has the wrong form.
    static func badHeaderValue(name: String, value: String) -> Self {
        Self(.badHeaderValue(name: name, value: value))
    }
    /// The `Encapsulated` header's value breaks RFC 3507 §4.4.1.
    static func badEncapsulated(_ value: String, _ problem: String) -> Self {
        Self(.badEncapsulated(value: value, problem: problem))
    }
    /// An `Encapsulated` section this kind of message may not carry.
    static func sectionNotAllowed(_ section: String, in message: String) -> Self {
        Self(.sectionNotAllowed(section: section, message: message))
    }
    /// A `100` or `204` response that announces an encapsulated message.
    static func bodyNotAllowed(status: Int) -> Self { Self(.bodyNotAllowed(status: status)) }
    /// The encapsulated HTTP heads reach past the configured limit.
    static func encapsulatedTooLarge(offset: Int, limit: Int) -> Self {
        Self(.encapsulatedTooLarge(offset: offset, limit: limit))
    }
    /// An encapsulated HTTP head does not end with its empty line exactly at the next offset.
    static func headOffsetMismatch(_ section: String, _ problem: String) -> Self {
        Self(.headOffsetMismatch(section: section, problem: problem))
    }
    /// An encapsulated HTTP head is malformed.
    static func badHTTPHead(_ section: String, offset: Int, _ problem: String) -> Self {
        Self(.badHTTPHead(section: section, offset: offset, problem: problem))
    }
    /// A chunk-size line whose size is missing or not hexadecimal.
    static func badChunkSize(_ line: String, offset: Int) -> Self { Self(.badChunkSize(line: line, offset: offset)) }
    /// A chunk size over 2^31 bytes.
    static func chunkTooLarge(_ line: String, offset: Int) -> Self { Self(.chunkTooLarge(line: line, offset: offset)) }
    /// A chunk-size line (or trailer line) with no CRLF in sight.
    static func chunkLineTooLong(offset: Int, limit: Int) -> Self {
        Self(.chunkLineTooLong(offset: offset, limit: limit))
    }
    /// Chunk data not followed by CRLF.
    static func missingChunkCRLF(size: Int, offset: Int) -> Self { Self(.missingChunkCRLF(size: size, offset: offset)) }
    /// A chunk line (size line, trailer) ending in a bare LF, or a malformed trailer.
    static func badChunkLine(offset: Int, _ problem: String) -> Self {
        Self(.badChunkLine(offset: offset, problem: problem))
    }
    /// More preview data than the `Preview` header announced.
    static func previewTooLong(limit: Int) -> Self { Self(.previewTooLong(limit: limit)) }
    /// A `200` or `204` response without the `ISTag` header RFC 3507 §4.7 requires.
    static func missingISTag(status: Int) -> Self { Self(.missingISTag(status: status)) }
    /// More than the header limit arrived after a preview, before the server answered it: a
    /// client must wait for `100 Continue` or the final answer.
    static func dataBeforeAnswer(bytes: Int) -> Self { Self(.dataBeforeAnswer(bytes: bytes)) }
    /// Response bytes arrived with no request outstanding.
    static func unsolicitedResponse(bytes: Int) -> Self { Self(.unsolicitedResponse(bytes: bytes)) }
    /// The connection closed in the middle of a message.
    static func truncated(inside: String) -> Self { Self(.truncated(inside: inside)) }

    /// What went wrong, without the details.
    public var code: Code {
        switch self.kind {
        case .headerTooLarge, .encapsulatedTooLarge: return .tooLarge
        case .bareLineFeed, .badStartLine, .badHeaderLine: return .malformedHeader
        case .unknownMethod: return .unknownMethod
        case .unsupportedVersion: return .unsupportedVersion
        case .duplicateHeader, .missingHeader, .badHeaderValue: return .badHeader
        case .badEncapsulated, .sectionNotAllowed, .bodyNotAllowed, .headOffsetMismatch: return .badEncapsulated
        case .badHTTPHead: return .badHTTPHead
        case .badChunkSize, .chunkTooLarge, .chunkLineTooLong, .missingChunkCRLF, .badChunkLine, .previewTooLong:
            return .badChunkedBody
        case .missingISTag: return .missingISTag
        case .unsolicitedResponse: return .unsolicitedResponse
        case .dataBeforeAnswer: return .dataBeforeAnswer
        case .truncated: return .truncated
        }
    }

    /// The status a server answers a request with when decoding it failed this way:
    /// `501` for an unknown method, `505` for another version, `400` for everything else.
    /// (`405` is for a known method the service does not offer, which only the server knows.)
    public var status: ICAPStatus {
        switch self.kind {
        case .unknownMethod: return .methodNotImplemented
        case .unsupportedVersion: return .versionNotSupported
        default: return .badRequest
        }
    }

    /// What went wrong, precisely.
    public var description: String {
        switch self.kind {
        case .headerTooLarge(let limit):
            return "the ICAP header is larger than \(limit) bytes"
        case .bareLineFeed(let offset):
            return "the ICAP header has a bare LF at byte \(offset) (lines must end in CRLF)"
        case .badStartLine(let line):
            return "malformed ICAP start line \(Self.quoted(line))"
        case .unknownMethod(let method):
            return "unknown ICAP method \(Self.quoted(method))"
        case .unsupportedVersion(let version):
            return "unsupported ICAP version \(Self.quoted(version)) (only ICAP/1.0 is spoken)"
        case .badHeaderLine(let offset, let line):
            return "malformed ICAP header line at byte \(offset): \(Self.quoted(line))"
        case .duplicateHeader(let name):
            return "the ICAP header \(name) occurs more than once"
        case .missingHeader(let name):
            return "the ICAP header \(name) is missing"
        case .badHeaderValue(let name, let value):
            return "the ICAP header \(name) has a malformed value \(Self.quoted(value))"
        case .badEncapsulated(let value, let problem):
            return "Encapsulated: \(value): \(problem)"
        case .sectionNotAllowed(let section, let message):
            return "Encapsulated section \(section) is not allowed in \(message)"
        case .bodyNotAllowed(let status):
            return "a \(status) response must not encapsulate a message (Encapsulated must be null-body=0)"
        case .encapsulatedTooLarge(let offset, let limit):
            return "the encapsulated HTTP heads end at offset \(offset), past the limit of \(limit) bytes"
        case .headOffsetMismatch(let section, let problem):
            return "the encapsulated \(section) head \(problem)"
        case .badHTTPHead(let section, let offset, let problem):
            return "the encapsulated \(section) head is malformed at its byte \(offset): \(problem)"
        case .badChunkSize(let line, let offset):
            return "chunk size line \(Self.quoted(line)) at offset \(offset) is not a hexadecimal size"
        case .chunkTooLarge(let line, let offset):
            return "chunk size \(Self.quoted(line)) at offset \(offset) is over 2^31 bytes"
        case .chunkLineTooLong(let offset, let limit):
            return "the chunk line at offset \(offset) has no CRLF within \(limit) bytes"
        case .missingChunkCRLF(let size, let offset):
            return
                "the chunk of \(size) bytes (size \(String(size, radix: 16))) is not followed by CRLF at offset \(offset)"
        case .badChunkLine(let offset, let problem):
            return "the chunk line at offset \(offset) \(problem)"
        case .previewTooLong(let limit):
            return "the preview carries more than the \(limit) bytes its Preview header announced"
        case .missingISTag(let status):
            return "the ICAP \(status) response has no ISTag header (RFC 3507 §4.7)"
        case .unsolicitedResponse(let bytes):
            return "\(bytes) byte(s) of an ICAP response arrived, but no request is outstanding"
        case .dataBeforeAnswer(let bytes):
            return "\(bytes) bytes arrived after the preview, before the server answered it"
        case .truncated(let inside):
            return "the connection closed inside \(inside)"
        }
    }

    /// `"text"` with control bytes escaped and long text cut.
    static func quoted(_ text: String) -> String {
        let cut = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return cut.debugDescription
    }

    /// The kind of an ``ICAPParseError``, for callers that act on it (log a peer as non-compliant,
    /// answer a client, retire a connection).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A header block or encapsulated heads over the configured limit.
        public static let tooLarge = Code("tooLarge")
        /// A malformed start line or header line.
        public static let malformedHeader = Code("malformedHeader")
        /// A method other than OPTIONS, REQMOD, RESPMOD.
        public static let unknownMethod = Code("unknownMethod")
        /// A version other than ICAP/1.0.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// A missing, repeated or malformed header (Encapsulated, Preview).
        public static let badHeader = Code("badHeader")
        /// An `Encapsulated` header that is malformed or does not match the bytes.
        public static let badEncapsulated = Code("badEncapsulated")
        /// A malformed encapsulated HTTP head.
        public static let badHTTPHead = Code("badHTTPHead")
        /// A malformed chunked body (sizes, CRLFs, preview length).
        public static let badChunkedBody = Code("badChunkedBody")
        /// A well-framed `200`/`204` response without `ISTag`: the server is not RFC 3507 compliant.
        public static let missingISTag = Code("missingISTag")
        /// A response with no request outstanding.
        public static let unsolicitedResponse = Code("unsolicitedResponse")
        /// A client that sent on after a preview without waiting for the server's answer.
        public static let dataBeforeAnswer = Code("dataBeforeAnswer")
        /// The connection closed in the middle of a message.
        public static let truncated = Code("truncated")

        /// The code's name.
        public var description: String { self.name }
    }
}
