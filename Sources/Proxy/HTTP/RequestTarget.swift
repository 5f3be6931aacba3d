/// The destination named by a request: the absolute-form URL of a forward-proxy request
/// (`http://host:port/path?query`) or the authority of a CONNECT (`host:port`).
public struct RequestTarget: Sendable, Hashable {
    public var scheme: String
    /// Lower-cased host name or IP literal (without brackets).
    public var host: String
    public var port: Int
    /// The origin-form target sent to the origin: path and query, at least `/`.
    public var originForm: String

    public init(scheme: String, host: String, port: Int, originForm: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.originForm = originForm
    }

    /// `host[:port]` as it goes into a `Host` header (default port omitted, IPv6 bracketed).
    public var hostHeader: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return self.port == Self.defaultPort(self.scheme) ? host : "\(host):\(self.port)"
    }

    /// The URL as it appears in logs and pages.
    public var absoluteURL: String { "\(self.scheme)://\(self.hostHeader)\(self.originForm)" }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": return 80
        case "https", "wss": return 443
        case "ftp": return 21
        default: return nil
        }
    }

    /// Parses an absolute-form request target. Throws with the reason it is not one.
    public init(absoluteForm uri: String) throws(RequestTargetError) {
        guard let colon = uri.firstIndex(of: ":"), uri[colon...].hasPrefix("://") else { throw .notAbsolute }
        let scheme = uri[..<colon].lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else {
            throw .badScheme
        }
        let rest = uri[uri.index(colon, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        guard let defaultPort = Self.defaultPort(scheme) else { throw .unsupportedScheme(scheme) }
        let (host, port) = try Self.splitAuthority(authority, defaultPort: defaultPort)
        self.init(scheme: scheme, host: host, port: port, originForm: path)
    }

    /// Parses the authority-form target of a CONNECT request (`host:port`, port required).
    public init(authorityForm uri: String) throws(RequestTargetError) {
        let (host, port) = try Self.splitAuthority(Substring(uri), defaultPort: nil)
        self.init(scheme: "https", host: host, port: port, originForm: "")
    }

    private static func splitAuthority(
        _ authority: Substring, defaultPort: Int?
    ) throws(RequestTargetError) -> (String, Int) {
        var host: Substring
        var portText: Substring? = nil
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw .badHost }
            host = authority[authority.index(after: authority.startIndex)..<close]
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .badHost
            }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw .badHost }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.last == "." { host = host.dropLast() }
        guard !host.isEmpty, host.utf8.count <= 253,
            host.allSatisfy({
                ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":"
            })
        else { throw .badHost }
        let port: Int
        if let portText, !portText.isEmpty {
            guard portText.utf8.count <= 5, let value = Int(portText), (1...65535).contains(value) else {
                throw .badPort
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw .badPort
        }
        return (host.lowercased(), port)
    }
}

public struct RequestTargetError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Kind: Equatable, Sendable {
        case notAbsolute, badScheme, unsupportedScheme(String), badHost, badPort
    }
    private let kind: Kind
    private init(_ kind: Kind) { self.kind = kind }

    public static let notAbsolute = Self(.notAbsolute)
    public static let badScheme = Self(.badScheme)
    public static func unsupportedScheme(_ scheme: String) -> Self { Self(.unsupportedScheme(scheme)) }
    public static let badHost = Self(.badHost)
    public static let badPort = Self(.badPort)

    public var isUnsupportedScheme: Bool {
        if case .unsupportedScheme = self.kind { return true }
        return false
    }

    public var description: String {
        switch self.kind {
        case .notAbsolute: return "the request target is not an absolute URL (a proxy needs http://host/path)"
        case .badScheme: return "the URL scheme is malformed"
        case .unsupportedScheme(let scheme): return "the URL scheme '\(scheme)' is not supported"
        case .badHost: return "the host name is malformed"
        case .badPort: return "the port is missing or out of range"
        }
    }
}
