import NIOCore

/// One remote ICAP service the proxy consults, as configured: Squid's `icap_service` in
/// spirit. Written `reqmod icap://127.0.0.1:1344/echo bypass=on preview=1024`.
public struct ICAPServiceConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// REQMOD or RESPMOD (OPTIONS is not a service method).
    public var method: ICAPMethod
    public var host: String
    public var port: Int
    /// The service path, `/echo`.
    public var path: String
    /// On failure: `true` — bypass the service and go on unmodified (an optional service);
    /// `false` — answer the client with a 503 page (an essential one). Squid's `bypass=`.
    public var bypass: Bool
    /// Body bytes sent as a preview; `nil`: what the service's OPTIONS asks for.
    public var preview: Int?
    /// A name for logs and counters (default: the URL).
    public var name: String

    public static let defaultPort = 1344
    /// The largest preview: the client holds a preview in memory until the service answers.
    public static let maxPreview = 1_048_576

    /// The `icap://` URL of the service.
    public var url: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "icap://\(host)\(self.port == Self.defaultPort ? "" : ":\(self.port)")\(self.path)"
    }

    public var description: String {
        "\(self.method.rawValue.lowercased()) \(self.url) bypass=\(self.bypass ? "on" : "off")"
            + (self.preview.map { " preview=\($0)" } ?? "")
    }

    /// Parses `METHOD URL [bypass=on|off] [preview=N] [name=NAME]`.
    public init(parsing text: String) throws(ICAPConfigurationError) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count >= 2 else {
            throw ICAPConfigurationError(text, "expected 'reqmod|respmod icap://HOST[:PORT]/SERVICE [options]'")
        }
        switch words[0].lowercased() {
        case "reqmod": self.method = .reqmod
        case "respmod": self.method = .respmod
        default: throw ICAPConfigurationError(text, "the method must be reqmod or respmod, not '\(words[0])'")
        }
        (self.host, self.port, self.path) = try Self.parseURL(words[1], in: text)
        self.bypass = false
        self.preview = nil
        self.name = words[1]
        for option in words.dropFirst(2) {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ICAPConfigurationError(text, "option '\(option)' is not NAME=VALUE") }
            switch (parts[0].lowercased(), parts[1].lowercased()) {
            case ("bypass", "on"), ("bypass", "1"), ("bypass", "yes"): self.bypass = true
            case ("bypass", "off"), ("bypass", "0"), ("bypass", "no"): self.bypass = false
            case ("preview", let value):
                guard let size = Int(value), (0...Self.maxPreview).contains(size) else {
                    throw ICAPConfigurationError(text, "preview must be a byte count 0…\(Self.maxPreview)")
                }
                self.preview = size
            case ("name", _): self.name = parts[1]
            default: throw ICAPConfigurationError(text, "unknown option '\(option)' (bypass=on|off, preview=N, name=…)")
            }
        }
    }

    private static func parseURL(_ url: String, in text: String) throws(ICAPConfigurationError) -> (String, Int, String)
    {
        guard url.lowercased().hasPrefix("icap://") else {
            throw ICAPConfigurationError(text, "the URL must start with icap://")
        }
        let rest = url.dropFirst("icap://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...].isEmpty ? "/" : String(rest[slash...])
        var host = Substring(authority)
        var port = Self.defaultPort
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ICAPConfigurationError(text, "unclosed '[' in the address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) else {
                    throw ICAPConfigurationError(text, "malformed port")
                }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else {
                throw ICAPConfigurationError(text, "malformed port")
            }
            port = value
            host = authority[..<colon]
        }
        guard !host.isEmpty else { throw ICAPConfigurationError(text, "no host in the URL") }
        // An IPv6 address in brackets, or a name or IPv4 address: what goes on the wire (the
        // request line, `Host`) is then always a well-formed URL.
        if authority.hasPrefix("[") {
            guard host.contains(":"), (try? SocketAddress(ipAddress: String(host), port: 0)) != nil else {
                throw ICAPConfigurationError(text, "'[\(host)]' is not an IPv6 address")
            }
        } else {
            guard host.utf8.allSatisfy(Self.isHostNameByte) else {
                throw ICAPConfigurationError(
                    text, "the host has characters a host name cannot have (an IPv6 address goes in brackets)")
            }
        }
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ICAPConfigurationError(text, "the service path has characters a URL cannot have")
        }
        return (String(host), port, path)
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        ASCII.isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}

/// A service line that cannot be used, and why.
public struct ICAPConfigurationError: Error, Sendable, CustomStringConvertible {
    public let input: String
    public let problem: String

    init(_ input: String, _ problem: String) {
        self.input = input
        self.problem = problem
    }

    public var description: String { "ICAP service '\(self.input)': \(self.problem)" }
}
