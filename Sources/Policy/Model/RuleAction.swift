/// What a rule does with a request whose URL is on its list.
public enum RuleAction: Sendable, Hashable, CustomStringConvertible {
    case allow
    case deny
    /// Answer with a 302 to this URL; `%a` (client), `%u` (URL), `%t` (list category),
    /// `%s` (group) are substituted, URL-encoded, as in squidGuard.
    case redirect(String)
    /// Connect to another host (and port) instead, request unchanged: CONNECT
    /// www.google.com:443 → forcesafesearch.google.com.
    case intercept(host: String, port: Int?)

    /// Parses `allow`, `deny`, `redirect=URL` or `intercept=HOST[:PORT]`.
    public init(parsing text: String) throws(PolicyInputError) {
        let (name, argument) = Self.split(text)
        switch (name, argument) {
        case ("allow", nil): self = .allow
        case ("deny", nil): self = .deny
        case ("redirect", let url?):
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: { $0.isWhitespace })
            else {
                throw PolicyInputError(field: "action", value: text, problem: "redirect needs an http(s) URL")
            }
            self = .redirect(url)
        case ("intercept", let target?):
            self = try Self.parseIntercept(target, text: text)
        default:
            throw PolicyInputError(
                field: "action", value: text,
                problem: "expected allow, deny, redirect=URL or intercept=HOST[:PORT]")
        }
    }

    private static func split(_ text: String) -> (String, String?) {
        guard let equals = text.firstIndex(of: "=") else { return (text.lowercased(), nil) }
        return (text[..<equals].lowercased(), String(text[text.index(after: equals)...]))
    }

    private static func parseIntercept(_ target: String, text: String) throws(PolicyInputError) -> RuleAction {
        var host = Substring(target)
        var port: Int?
        if let colon = target.lastIndex(of: ":"), !target.hasSuffix("]") {
            guard let value = Int(target[target.index(after: colon)...]), (1...65535).contains(value) else {
                throw PolicyInputError(field: "action", value: text, problem: "intercept port must be 1…65535")
            }
            port = value
            host = target[..<colon]
        }
        guard let name = try? HostName.normalized(host) else {
            throw PolicyInputError(field: "action", value: text, problem: "intercept needs a host name")
        }
        return .intercept(host: name, port: port)
    }

    /// The stored form: the action's name and its argument.
    public var storage: (name: String, target: String?) {
        switch self {
        case .allow: ("allow", nil)
        case .deny: ("deny", nil)
        case .redirect(let url): ("redirect", url)
        case .intercept(let host, let port): ("intercept", port.map { "\(host):\($0)" } ?? host)
        }
    }

    /// Rebuilds an action from its stored form.
    public init(name: String, target: String?) throws(PolicyInputError) {
        try self.init(parsing: target.map { "\(name)=\($0)" } ?? name)
    }

    public var description: String {
        let (name, target) = self.storage
        return target.map { "\(name)=\($0)" } ?? name
    }

    public var isBlocking: Bool {
        switch self {
        case .deny, .redirect: true
        case .allow, .intercept: false
        }
    }
}
