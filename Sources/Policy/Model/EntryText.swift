/// The text form of a list entry, as people type it (`portcullis policy add`, the admin UI):
/// `example.com` (a domain and its subdomains), `host:www.example.com` (that host only),
/// `example.com/path` or `url:…` (squidGuard URL), `regex:PATTERN`; `domain:` may be written
/// too. Values come back normalised: the form they are stored and matched in.
public struct EntryText: Sendable, Hashable, CustomStringConvertible {
    public let kind: EntryKind
    public let value: String

    public init(kind: EntryKind, value: String) {
        self.kind = kind
        self.value = value
    }

    public init(parsing text: String) throws(PolicyInputError) {
        let trimmed = text.trimmingSpaces()
        for kind in EntryKind.allCases where trimmed.hasPrefix(kind.rawValue + ":") {
            try self.init(kind: kind, raw: String(trimmed.dropFirst(kind.rawValue.count + 1)))
            return
        }
        try self.init(kind: trimmed.contains("/") ? .url : .domain, raw: trimmed)
    }

    public init(kind: EntryKind, raw: String) throws(PolicyInputError) {
        self.kind = kind
        switch kind {
        case .domain, .host:
            var name = Substring(raw)
            if kind == .domain, name.hasPrefix("*.") { name = name.dropFirst(2) }
            if kind == .domain, name.hasPrefix(".") { name = name.dropFirst() }
            do {
                self.value = try HostName.normalized(name)
            } catch {
                throw PolicyInputError(field: kind.rawValue, value: raw, problem: error.description)
            }
        case .url:
            self.value = try Self.normalizedURL(raw)
        case .regex:
            guard !raw.isEmpty else { throw PolicyInputError(field: "regex", value: raw, problem: "empty pattern") }
            try PosixRegex.validate(raw)
            self.value = raw
        }
    }

    /// squidGuard URL entries: scheme, port and a leading `www<digits>.` label are dropped,
    /// the host normalised, the path kept as written (without a trailing `/`).
    static func normalizedURL(_ raw: String) throws(PolicyInputError) -> String {
        var text = Substring(raw)
        for scheme in ["http://", "https://"] where text.lowercased().hasPrefix(scheme) {
            text = text.dropFirst(scheme.count)
        }
        let slash = text.firstIndex(of: "/") ?? text.endIndex
        var authority = text[..<slash]
        var path = text[slash...]
        if let colon = authority.lastIndex(of: ":") {
            guard authority[authority.index(after: colon)...].allSatisfy(\.isNumber) else {
                throw PolicyInputError(field: "url", value: raw, problem: "malformed port")
            }
            authority = authority[..<colon]
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        let host: String
        do {
            host = try HostName.normalized(authority)
        } catch {
            throw PolicyInputError(field: "url", value: raw, problem: error.description)
        }
        guard !path.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw PolicyInputError(field: "url", value: raw, problem: "spaces in the path")
        }
        return URLKey.strippingWWW(host) + path
    }

    public var description: String {
        switch self.kind {
        case .domain, .url: self.value
        case .host, .regex: "\(self.kind.rawValue):\(self.value)"
        }
    }
}

/// How URL entries and request URLs are keyed alike.
enum URLKey {
    /// `www.example.com`, `www2.example.com` → `example.com` (not `www.com`).
    static func strippingWWW(_ host: String) -> String {
        var utf8 = Substring(host).utf8
        guard utf8.starts(with: "www".utf8) else { return host }
        utf8 = utf8.dropFirst(3)
        while let first = utf8.first, first >= 0x30, first <= 0x39 { utf8 = utf8.dropFirst() }
        guard utf8.first == UInt8(ascii: "."), utf8.dropFirst().contains(UInt8(ascii: ".")) else { return host }
        return String(Substring(utf8.dropFirst()))
    }
}
