import NIOCore
import Policy

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
        var buffer = ByteBuffer()
        ByteWriter.write(into: &buffer, longest: self.host.utf8.count + 8) { self.writeHostHeader(to: &$0) }
        return String(buffer: buffer)
    }

    /// Writes `hostHeader` (the origin request on the hot path makes no String for it;
    /// `hostHeader` is built from this, so the two cannot disagree). Needs the host's length
    /// plus 8 bytes.
    func writeHostHeader(to writer: inout ByteWriter) {
        // (Over the contiguous bytes: `contains` on the UTF-8 view steps through String indices.)
        let isIPv6 =
            self.host.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: ":")) }
            ?? self.host.utf8.contains(UInt8(ascii: ":"))
        if isIPv6 { writer.byte(UInt8(ascii: "[")) }
        writer.text(self.host)
        if isIPv6 { writer.byte(UInt8(ascii: "]")) }
        if self.port != Self.defaultPort(self.scheme) {
            writer.byte(UInt8(ascii: ":"))
            writer.decimal(Int64(self.port))
        }
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
    /// Works on the UTF-8 bytes: this runs for every request.
    public init(absoluteForm uri: String) throws(RequestTargetError) {
        var uri = uri
        self = try uri.withUTF8 { Self.parseAbsolute($0) }.get()
    }

    /// Parses the authority-form target of a CONNECT request (`host:port`, port required).
    public init(authorityForm uri: String) throws(RequestTargetError) {
        var uri = uri
        let (host, port) = try uri.withUTF8 { bytes in
            Self.splitAuthority(bytes, from: 0, to: bytes.count, defaultPort: nil)
        }.get()
        self.init(scheme: "https", host: host, port: port, originForm: "")
    }

    private static func parseAbsolute(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<RequestTarget, RequestTargetError>
    {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else { return .failure(.notAbsolute) }
        guard colon > 0, bytes[0..<colon].allSatisfy(Self.isSchemeByte) else { return .failure(.badScheme) }
        let scheme = Self.lowercasedScheme(UnsafeBufferPointer(rebasing: bytes[0..<colon]))
        var authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count {
            let byte = bytes[authorityEnd]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            authorityEnd += 1
        }
        // Userinfo (user:password@) is never sent on.
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { authorityStart = at + 1 }
        let pathEnd = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        var path = String(decoding: UnsafeBufferPointer(rebasing: bytes[authorityEnd..<pathEnd]), as: UTF8.self)
        if path.isEmpty || path.utf8.first == UInt8(ascii: "?") { path = "/" + path }
        guard let defaultPort = Self.defaultPort(scheme) else { return .failure(.unsupportedScheme(scheme)) }
        switch Self.splitAuthority(bytes, from: authorityStart, to: authorityEnd, defaultPort: defaultPort) {
        case .success(let (host, port)):
            return .success(RequestTarget(scheme: scheme, host: host, port: port, originForm: path))
        case .failure(let error):
            return .failure(error)
        }
    }

    private static func splitAuthority(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, defaultPort: Int?
    ) -> Result<(String, Int), RequestTargetError> {
        var hostStart = start
        var hostEnd = end
        var portStart: Int? = nil
        let bracketed = start < end && bytes[start] == UInt8(ascii: "[")
        if bracketed {
            guard let close = bytes[start..<end].firstIndex(of: UInt8(ascii: "]")) else { return .failure(.badHost) }
            hostStart = start + 1
            hostEnd = close
            // An IPv6 address, checked as one (`[1:2]` is not): the resolver would only fail later.
            // (The colon keeps an IPv4 address, which `IPAddress128` would take, out of brackets.)
            let literal = bytes[hostStart..<hostEnd]
            guard literal.contains(UInt8(ascii: ":")),
                IPAddress128(parsing: String(decoding: literal, as: UTF8.self)) != nil
            else {
                return .failure(.badHost)
            }
            if close + 1 < end {
                guard bytes[close + 1] == UInt8(ascii: ":") else { return .failure(.badHost) }
                portStart = close + 2
            }
        } else if let colon = bytes[start..<end].lastIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
            portStart = colon + 1
        }
        if hostEnd > hostStart && bytes[hostEnd - 1] == UInt8(ascii: ".") { hostEnd -= 1 }
        // (A bracketed literal's bytes were checked above.)
        guard hostEnd > hostStart, hostEnd - hostStart <= 253,
            bracketed || bytes[hostStart..<hostEnd].allSatisfy(Self.isHostByte)
        else {
            return .failure(.badHost)
        }
        let port: Int
        if let portStart, portStart < end {
            guard end - portStart <= 5 else { return .failure(.badPort) }
            var value = 0
            for byte in bytes[portStart..<end] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .failure(.badPort) }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            guard (1...65535).contains(value) else { return .failure(.badPort) }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            return .failure(.badPort)
        }
        let host = String(unsafeUninitializedCapacity: hostEnd - hostStart) { buffer in
            for (offset, byte) in bytes[hostStart..<hostEnd].enumerated() {
                buffer[offset] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            }
            return hostEnd - hostStart
        }
        return .success((host, port))
    }

    /// The scheme in lower case; the common ones without allocating.
    private static func lowercasedScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if ASCII.matchesLowercase(bytes, "http") { return "http" }
        if ASCII.matchesLowercase(bytes, "https") { return "https" }
        return String(decoding: bytes.map(ASCII.lowercased), as: UTF8.self)
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        Self.isAlphanumeric(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// A byte of a host name or IPv4 address. (An IPv6 address is bracketed, RFC 3986 §3.2.2:
    /// `e.com::443` or an unbracketed `::1:443` is a malformed host, not a name to look up.)
    private static func isHostByte(_ byte: UInt8) -> Bool {
        Self.isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
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
