import NIOCore

/// A `HOST:PORT` to listen on or connect to: `127.0.0.1:3128`, `[::1]:3128`, `example.org:80`.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv6 literals in brackets). With `defaultPort`, the port may be omitted.
    public init(parsing text: some StringProtocol, defaultPort: Int? = nil) throws(HostAndPortError) {
        let text = String(text)
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw HostAndPortError(input: text, problem: "missing ']' after an IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw HostAndPortError(input: text, problem: "expected ':' after ']'") }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            if host.contains(":") {
                throw HostAndPortError(
                    input: text, problem: "IPv6 addresses must be written in brackets, e.g. [::1]:3128")
            }
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty else { throw HostAndPortError(input: text, problem: "the host is empty") }
        // ASCII only: a name the resolver can take as it is, an IPv4 address, or an IPv6 one (with
        // its zone: `fe80::1%eth0`).
        guard
            host.allSatisfy({
                $0.isASCII
                    && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" || $0 == "%")
            })
        else {
            throw HostAndPortError(input: text, problem: "the host has characters a host name cannot have")
        }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw HostAndPortError(input: text, problem: "the port must be a number 1…65535")
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw HostAndPortError(input: text, problem: "a port is required (HOST:PORT)")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}

public struct HostAndPortError: Error, CustomStringConvertible, Sendable {
    public let input: String
    public let problem: String
    public var description: String { "invalid address '\(self.input)': \(self.problem)" }
}
