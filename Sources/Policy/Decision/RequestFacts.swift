/// What the policy knows about one request: all a decision may depend on, besides the time.
public struct RequestFacts: Sendable {
    /// `http`, or `https` for a CONNECT.
    public var scheme: String
    /// The destination host as the client named it (any case, maybe a trailing dot or IDN).
    public var host: String
    public var port: Int
    /// Path and query (`/` for a CONNECT).
    public var path: String
    public var client: IPAddress128?
    public var user: String?
    public var isConnect: Bool

    public init(
        scheme: String, host: String, port: Int, path: String, client: IPAddress128?, user: String? = nil,
        isConnect: Bool = false
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.client = client
        self.user = user
        self.isConnect = isConnect
    }

    /// A URL's facts: `http://example.com/a?b`, `example.com:443` (a CONNECT), `example.com`.
    public init(url: String, client: IPAddress128? = nil, user: String? = nil) throws(PolicyInputError) {
        var rest = Substring(url)
        var scheme = "http"
        var isConnect = false
        if let range = rest.range(of: "://") {
            scheme = rest[..<range.lowerBound].lowercased()
            rest = rest[range.upperBound...]
        }
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var port = scheme == "https" ? 443 : 80
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            // An IPv6 literal: closed, an address, and nothing after it but a port.
            guard let close = authority.firstIndex(of: "]"),
                IPAddress128(parsing: authority[authority.index(after: authority.startIndex)..<close]) != nil
            else {
                throw PolicyInputError(field: "url", value: url, problem: "malformed IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else {
                throw PolicyInputError(field: "url", value: url, problem: "malformed port")
            }
            if !after.isEmpty { portText = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        if let portText {
            guard portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(portText),
                (1...65535).contains(value)
            else {
                throw PolicyInputError(field: "url", value: url, problem: "malformed port")
            }
            port = value
            if !url.contains("://") && port == 443 {
                scheme = "https"
                isConnect = true
            }
        }
        // Only an IPv6 literal holds colons, and only between its brackets.
        guard authority.hasPrefix("[") || !host.contains(where: { $0 == "[" || $0 == "]" || $0 == ":" }) else {
            throw PolicyInputError(field: "url", value: url, problem: "malformed host")
        }
        guard !host.isEmpty else { throw PolicyInputError(field: "url", value: url, problem: "no host") }
        self.init(
            scheme: scheme, host: String(host), port: port, path: isConnect ? "/" : path, client: client, user: user,
            isConnect: isConnect)
    }

    /// The URL as the policy sees it (what regular expressions and `%u` see).
    public var url: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: self.urlCapacity) { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<self.writeURL(into: buffer)]), as: UTF8.self)
        }
    }

    /// Room enough for `writeURL`.
    var urlCapacity: Int { self.scheme.utf8.count + self.host.utf8.count + self.path.utf8.count + 12 }

    /// Writes the URL's bytes (no String made: the decision's regular expressions read them);
    /// returns how many. `buffer` holds at least `urlCapacity` bytes.
    func writeURL(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        func put<S: Sequence<UInt8>>(_ bytes: S) {
            for byte in bytes {
                buffer[count] = byte
                count += 1
            }
        }
        let bracketed = self.host.utf8.contains(UInt8(ascii: ":"))
        if !self.isConnect {
            put(self.scheme.utf8)
            put("://".utf8)
        }
        if bracketed { put(CollectionOfOne(UInt8(ascii: "["))) }
        put(self.host.utf8)
        if bracketed { put(CollectionOfOne(UInt8(ascii: "]"))) }
        let defaultPort = self.scheme == "https" ? 443 : 80
        if self.isConnect || self.port != defaultPort {
            put(CollectionOfOne(UInt8(ascii: ":")))
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
            var length = 0
            var rest = max(0, min(self.port, 65535))
            withUnsafeMutableBytes(of: &digits) { digits in
                repeat {
                    digits[length] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    length += 1
                } while rest > 0
                for index in stride(from: length - 1, through: 0, by: -1) { put(CollectionOfOne(digits[index])) }
            }
        }
        if !self.isConnect { put(self.path.utf8) }
        return count
    }
}
