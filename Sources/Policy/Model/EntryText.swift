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

    /// Parses one entry of a known kind, exactly as an imported line of that kind is read.
    public init(kind: EntryKind, raw: String) throws(PolicyInputError) {
        self.kind = kind
        var raw = raw
        let outcome = raw.withUTF8 { bytes -> LineOutcome in
            switch kind {
            case .domain: return DomainLine.parse(bytes)
            case .host:
                do { return .value(try HostName.normalized(utf8: bytes)) } catch let error as HostNameError {
                    return .problem(error.reason)
                } catch { return .problem("\(error)") }
            case .url: return URLLine.parse(bytes)
            case .regex: return bytes.isEmpty ? .problem("empty pattern") : ExpressionLine.parse(bytes)
            }
        }
        switch outcome {
        case .value(let value): self.value = value
        case .problem(let reason): throw PolicyInputError(field: kind.rawValue, value: raw, problem: reason)
        default: throw PolicyInputError(field: kind.rawValue, value: raw, problem: "not an entry")
        }
    }

    /// The form `init(parsing:)` reads back as this entry: a domain, or a URL with a path, as
    /// they are; any other with its kind in front (a URL without a path, `url:example.com`,
    /// would otherwise read back as a domain).
    public var description: String {
        switch self.kind {
        case .domain: self.value
        case .url where self.value.contains("/"): self.value
        case .host, .regex, .url: "\(self.kind.rawValue):\(self.value)"
        }
    }
}
