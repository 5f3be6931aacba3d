import NIOHTTP1

/// The framing and connection facts of a message head, gathered in one pass over its fields
/// without allocating in the common case. The planners decide from these.
struct HeadFields {
    /// The single Content-Length (equal duplicates collapse); nil when absent.
    var contentLength: Int64?
    /// A Transfer-Encoding field is present.
    var hasTransferEncoding = false
    /// The last transfer coding is `chunked`.
    var isChunked = false
    /// Why the framing fields cannot be trusted (smuggling defences), if they cannot.
    var framingError: String?
    /// Tokens of `Connection` / `Proxy-Connection`.
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    /// Other header names listed in `Connection` (rare): hop-by-hop too.
    var connectionListed: [Substring] = []
    /// A hop-by-hop field is present, so the head must be rewritten without it.
    var hasHopByHop = false
    var hostCount = 0
    var upgrade: String?
    var maxForwards: String?

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            switch HopByHopName(name) {
            case .contentLength:
                self.noteContentLength(value)
            case .transferEncoding:
                self.hasHopByHop = true
                self.hasTransferEncoding = true
                self.isChunked = Self.lastToken(value).equalsIgnoringASCIICase("chunked")
            case .connection, .proxyConnection:
                self.hasHopByHop = true
                self.noteConnectionTokens(value)
            case .upgrade:
                self.hasHopByHop = true
                self.upgrade = value
            case .host:
                self.hostCount += 1
            case .maxForwards:
                self.maxForwards = value
            case .otherHopByHop:
                self.hasHopByHop = true
            case .none:
                break
            }
        }
        if self.hasTransferEncoding && !self.isChunked {
            self.framingError = "Transfer-Encoding must end with chunked"
        } else if self.hasTransferEncoding && self.contentLength != nil {
            self.framingError = "both Content-Length and Transfer-Encoding"
        }
    }

    /// Whether the sender wants the connection kept open.
    func wantsKeepAlive(version: HTTPVersion) -> Bool {
        if self.connectionClose { return false }
        return version.major == 1 && version.minor >= 1 || self.connectionKeepAlive
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
    func responseFraming(status: HTTPResponseStatus, requestMethod: HTTPMethod) -> BodyFraming {
        if requestMethod == .HEAD || status.code < 200 || status == .noContent || status == .notModified {
            return .none
        }
        if self.isChunked { return .chunked }
        if self.hasTransferEncoding { return .untilClose }
        if let length = self.contentLength, self.framingError == nil { return .contentLength(length) }
        return .untilClose
    }

    /// Removes hop-by-hop fields and those named in `Connection` (RFC 9110 §7.6.1).
    func stripHopByHop(_ headers: inout HTTPHeaders) {
        guard self.hasHopByHop else { return }
        // Usually one or two fields go: remove them in place rather than rebuild the head.
        var doomed: [String] = []
        for (name, _) in headers {
            if HopByHopName(name).isHopByHop
                || (!self.connectionListed.isEmpty
                    && self.connectionListed.contains { name.equalsIgnoringASCIICase($0) })
            {
                if !doomed.contains(where: { $0.equalsIgnoringASCIICase(name) }) { doomed.append(name) }
            }
        }
        for name in doomed { headers.remove(name: name) }
    }

    private mutating func noteContentLength(_ value: String) {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let parsed = Int64(value)
        else {
            self.framingError = "malformed Content-Length '\(value)'"
            return
        }
        if let existing = self.contentLength, existing != parsed {
            self.framingError = "conflicting Content-Length values"
        }
        self.contentLength = parsed
    }

    private mutating func noteConnectionTokens(_ value: String) {
        for token in value.split(separator: ",") {
            let token = token.trimmingASCIISpaces()
            if token.equalsIgnoringASCIICase("close") {
                self.connectionClose = true
            } else if token.equalsIgnoringASCIICase("keep-alive") {
                self.connectionKeepAlive = true
            } else if token.equalsIgnoringASCIICase("upgrade") {
                self.connectionUpgrade = true
            } else if !token.isEmpty {
                self.connectionListed.append(token)
            }
        }
    }

    private static func lastToken(_ value: String) -> Substring {
        let last = value.split(separator: ",").last ?? Substring(value)
        return last.trimmingASCIISpaces()
    }
}

/// Field names the proxy treats specially, recognised without allocating.
enum HopByHopName {
    case connection, proxyConnection, transferEncoding, upgrade, otherHopByHop
    case contentLength, host, maxForwards
    case none

    init(_ name: String) {
        let utf8 = name.utf8
        switch utf8.count {
        case 2: self = name.equalsIgnoringASCIICase("te") ? .otherHopByHop : .none
        case 4: self = name.equalsIgnoringASCIICase("host") ? .host : .none
        case 7:
            if name.equalsIgnoringASCIICase("upgrade") {
                self = .upgrade
            } else {
                self = name.equalsIgnoringASCIICase("trailer") ? .otherHopByHop : .none
            }
        case 10:
            if name.equalsIgnoringASCIICase("connection") {
                self = .connection
            } else {
                self = name.equalsIgnoringASCIICase("keep-alive") ? .otherHopByHop : .none
            }
        case 12: self = name.equalsIgnoringASCIICase("max-forwards") ? .maxForwards : .none
        case 14: self = name.equalsIgnoringASCIICase("content-length") ? .contentLength : .none
        case 16: self = name.equalsIgnoringASCIICase("proxy-connection") ? .proxyConnection : .none
        case 17: self = name.equalsIgnoringASCIICase("transfer-encoding") ? .transferEncoding : .none
        case 18: self = name.equalsIgnoringASCIICase("proxy-authenticate") ? .otherHopByHop : .none
        case 19: self = name.equalsIgnoringASCIICase("proxy-authorization") ? .otherHopByHop : .none
        default: self = .none
        }
    }

    var isHopByHop: Bool {
        switch self {
        case .connection, .proxyConnection, .transferEncoding, .upgrade, .otherHopByHop: return true
        case .contentLength, .host, .maxForwards, .none: return false
        }
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, without allocating.
    func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        guard self.utf8.count == other.utf8.count else { return false }
        for (a, b) in zip(self.utf8, other.utf8) where a != b {
            let lowerA = a >= 0x41 && a <= 0x5A ? a | 0x20 : a
            let lowerB = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
            if lowerA != lowerB { return false }
        }
        return true
    }

    func trimmingASCIISpaces() -> Substring {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return view
    }
}
