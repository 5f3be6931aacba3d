import NIOHTTP1

/// The framing and connection facts of a message head, gathered in one pass over its fields
/// without allocating in the common case. The planners decide from these. Fields are fed as
/// bytes, so the same code serves heads decoded by NIO (requests) and heads parsed in place
/// (origin responses, `OriginResponseParser`).
///
/// Every head's facts travel by value from parser to planner, so the common ones are kept
/// small (flags and the length) and the ones few heads have sit in one box, `RareHeadFields`:
/// a head without them copies as a few words, with no reference to retain.
struct HeadFields {
    /// The single Content-Length (equal duplicates collapse); nil when absent.
    var contentLength: Int64?
    /// A Transfer-Encoding field is present.
    var hasTransferEncoding = false
    /// The last transfer coding is `chunked`.
    var isChunked = false
    /// Tokens of `Connection` / `Proxy-Connection`.
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    /// A hop-by-hop field is present, so the head must be rewritten without it.
    var hasHopByHop = false
    private var unsupportedCoding = false
    /// How many Host fields there are (counting stops at 255).
    private(set) var hostCount: UInt8 = 0
    private var rare: RareHeadFields?

    /// Why the framing fields cannot be trusted (smuggling defences), if they cannot.
    private(set) var framingError: String? {
        get { self.rare?.fields.framingError }
        set { self.modifyRare { $0.framingError = newValue } }
    }
    /// Other header names listed in `Connection` (rare): hop-by-hop too.
    var connectionListed: [String] { self.rare?.fields.connectionListed ?? [] }
    /// The `Upgrade` field's value.
    private(set) var upgrade: String? {
        get { self.rare?.fields.upgrade }
        set { self.modifyRare { $0.upgrade = newValue } }
    }
    /// The `Max-Forwards` field's value.
    private(set) var maxForwards: String? {
        get { self.rare?.fields.maxForwards }
        set { self.modifyRare { $0.maxForwards = newValue } }
    }

    init() {}

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            self.note(name: name.utf8, value: value.utf8)
        }
        self.finish()
    }

    /// Takes one field into account; returns what the name was recognised as, so that a
    /// parser can note where a field it wants is without recognising the name again.
    @discardableResult
    mutating func note(
        name: some BidirectionalCollection<UInt8>, value: some BidirectionalCollection<UInt8>
    ) -> FieldName {
        let recognised = FieldName(name)
        switch recognised {
        case .contentLength:
            self.noteContentLength(value)
        case .transferEncoding:
            self.hasHopByHop = true
            // Only `chunked` alone is supported: other codings would have to be forwarded
            // around the re-framing, and nothing real sends them.
            var codings = 0
            var onlyChunked = true
            ASCII.forEachToken(in: value) { coding in
                codings += 1
                if !ASCII.matchesLowercase(coding, "chunked") { onlyChunked = false }
            }
            if self.hasTransferEncoding || codings != 1 || !onlyChunked {
                self.unsupportedCoding = true
            }
            self.hasTransferEncoding = true
            self.isChunked = onlyChunked && codings >= 1
        case .connection, .proxyConnection:
            self.hasHopByHop = true
            self.noteConnectionTokens(value)
        case .upgrade:
            self.hasHopByHop = true
            self.upgrade = String(decoding: value, as: UTF8.self)
        case .host:
            if self.hostCount < .max { self.hostCount += 1 }
        case .maxForwards:
            self.maxForwards = String(decoding: value, as: UTF8.self)
        case .otherHopByHop:
            self.hasHopByHop = true
        case .contentType, .via, .xForwardedFor, .none:
            break
        }
        return recognised
    }

    /// Settles what depends on several fields; call after the last `note`.
    mutating func finish() {
        if self.unsupportedCoding {
            self.framingError = "only Transfer-Encoding: chunked is supported"
        } else if self.hasTransferEncoding && !self.isChunked {
            self.framingError = "Transfer-Encoding must end with chunked"
        } else if self.hasTransferEncoding && self.contentLength != nil {
            self.framingError = "both Content-Length and Transfer-Encoding"
        }
    }

    /// Whether the sender wants the connection kept open.
    func wantsKeepAlive(minorVersion: Int) -> Bool {
        if self.connectionClose { return false }
        return minorVersion >= 1 || self.connectionKeepAlive
    }

    func wantsKeepAlive(version: HTTPVersion) -> Bool {
        version.major == 1 && self.wantsKeepAlive(minorVersion: version.minor)
    }

    /// The protocol a request asks to switch to (`Connection: upgrade` plus `Upgrade`).
    var upgradeProtocol: String? {
        guard self.connectionUpgrade, let upgrade = self.upgrade, !upgrade.isEmpty else { return nil }
        return upgrade
    }

    /// The request's body framing, or the reason it is unacceptable.
    func requestFraming() -> Result<BodyFraming, FramingError> {
        if let framingError = self.framingError { return .failure(FramingError(description: framingError)) }
        if self.isChunked { return .success(.chunked) }
        if let length = self.contentLength { return .success(length == 0 ? .none : .contentLength(length)) }
        return .success(.none)
    }

    /// The response's body framing (RFC 9112 §6.3).
    func responseFraming(status: Int, requestWasHEAD: Bool) -> BodyFraming {
        if requestWasHEAD || status < 200 || status == 204 || status == 304 {
            return .none
        }
        if self.isChunked { return .chunked }
        if self.hasTransferEncoding { return .untilClose }
        if let length = self.contentLength, self.framingError == nil { return .contentLength(length) }
        return .untilClose
    }

    /// Whether a field is dropped when the head is forwarded: hop-by-hop (RFC 9110 §7.6.1),
    /// or named in `Connection`.
    func isDropped(name: some BidirectionalCollection<UInt8>) -> Bool {
        if FieldName(name).isHopByHop { return true }
        return !self.connectionListed.isEmpty
            && self.connectionListed.contains { ASCII.equalsIgnoringCase(name, $0.utf8) }
    }

    private mutating func noteContentLength(_ value: some BidirectionalCollection<UInt8>) {
        var parsed: Int64 = 0
        let digits = ASCII.trimmed(value)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            self.framingError = "malformed Content-Length '\(String(decoding: value, as: UTF8.self))'"
            return
        }
        for digit in digits { parsed = parsed * 10 + Int64(digit - 0x30) }
        if let existing = self.contentLength, existing != parsed {
            self.framingError = "conflicting Content-Length values"
        }
        self.contentLength = parsed
    }

    private mutating func noteConnectionTokens(_ value: some BidirectionalCollection<UInt8>) {
        ASCII.forEachToken(in: value) { token in
            if ASCII.matchesLowercase(token, "close") {
                self.connectionClose = true
            } else if ASCII.matchesLowercase(token, "keep-alive") {
                self.connectionKeepAlive = true
            } else if ASCII.matchesLowercase(token, "upgrade") {
                self.connectionUpgrade = true
            } else {
                // Framing and routing fields are never dropped on a sender's say-so: a
                // `Connection: content-length` must not make the proxy forward a body the
                // next hop cannot delimit (request smuggling).
                switch FieldName(token) {
                case .contentLength, .transferEncoding, .host: return
                default:
                    let name = String(decoding: token, as: UTF8.self)
                    self.modifyRare { $0.connectionListed.append(name) }
                }
            }
        }
    }
}

extension HeadFields {
    /// Changes the rarely present fields: a new box each time (they are set once or twice per
    /// head, and only by the head's parser), so a copy of these facts never sees the change.
    fileprivate mutating func modifyRare(_ change: (inout RareHeadFields.Fields) -> Void) {
        var fields = self.rare?.fields ?? RareHeadFields.Fields()
        change(&fields)
        self.rare = .fields(fields)
    }
}

/// The facts few heads have, in one immutable box (an indirect case: one word inline).
private enum RareHeadFields {
    struct Fields {
        var framingError: String?
        var connectionListed: [String] = []
        var upgrade: String?
        var maxForwards: String?
    }
    indirect case fields(Fields)

    var fields: Fields {
        switch self {
        case .fields(let fields): return fields
        }
    }
}

/// Byte-level helpers for HTTP's ASCII syntax.
enum ASCII {
    /// Case-insensitive equality of two ASCII byte sequences, without allocating.
    static func equalsIgnoringCase(
        _ a: some BidirectionalCollection<UInt8>, _ b: some BidirectionalCollection<UInt8>
    ) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            if Self.lowercased(x) != Self.lowercased(y) { return false }
        }
        return true
    }

    /// Whether `bytes`, lower-cased, are `lowercase` (which must be lower-case ASCII).
    @inline(__always)
    static func matchesLowercase(_ bytes: some BidirectionalCollection<UInt8>, _ lowercase: StaticString) -> Bool {
        lowercase.withUTF8Buffer { expected in
            guard bytes.count == expected.count else { return false }
            var index = 0
            for byte in bytes {
                if Self.lowercased(byte) != expected[index] { return false }
                index += 1
            }
            return true
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// Calls `body` with each non-empty comma-separated token, trimmed, without allocating.
    @inline(__always)
    static func forEachToken<C: BidirectionalCollection<UInt8>>(in value: C, _ body: (C.SubSequence) -> Void) {
        var start = value.startIndex
        var index = value.startIndex
        while true {
            if index == value.endIndex || value[index] == UInt8(ascii: ",") {
                let token = Self.trimmed(value[start..<index])
                if !token.isEmpty { body(token) }
                if index == value.endIndex { return }
                start = value.index(after: index)
            }
            index = value.index(after: index)
        }
    }

    /// Drops leading and trailing spaces and tabs.
    static func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
        var view = bytes[...]
        while let first = view.first, first == 0x20 || first == 0x09 { view = view.dropFirst() }
        while let last = view.last, last == 0x20 || last == 0x09 { view = view.dropLast() }
        return view
    }
}
