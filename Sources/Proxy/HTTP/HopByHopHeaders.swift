import NIOHTTP1

/// Hop-by-hop header handling (RFC 9110 §7.6.1): these belong to one connection and are never
/// forwarded, and neither is any header the `Connection` field names.
enum HopByHopHeaders {
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Removes hop-by-hop headers and the ones listed in `Connection`.
    static func strip(_ headers: inout HTTPHeaders) {
        let listed = headers[canonicalForm: "connection"].map { $0.lowercased() }
        var found: [String] = []
        for field in headers {
            let name = field.name.lowercased()
            if Self.names.contains(name) || listed.contains(name) { found.append(field.name) }
        }
        for name in found { headers.remove(name: name) }
    }

    /// Whether a message asks to keep its connection open, counting the old `Proxy-Connection`.
    static func wantsKeepAlive(_ headers: HTTPHeaders, version: HTTPVersion) -> Bool {
        let tokens = (headers[canonicalForm: "connection"] + headers[canonicalForm: "proxy-connection"]).map { $0.lowercased() }
        if tokens.contains("close") { return false }
        if version.major == 1 && version.minor >= 1 { return true }
        return tokens.contains("keep-alive")
    }

    /// The protocol a request asks to switch to (`Upgrade: websocket` with `Connection: upgrade`).
    static func upgradeProtocol(_ headers: HTTPHeaders) -> String? {
        guard headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }),
            let upgrade = headers.first(name: "upgrade"), !upgrade.isEmpty
        else { return nil }
        return upgrade
    }
}

extension HTTPHeaders {
    /// Appends `value` to a comma-separated field, creating it when absent.
    mutating func appendToList(name: String, value: String) {
        let existing = self[name]
        if !existing.isEmpty {
            self.replaceOrAdd(name: name, value: existing.joined(separator: ", ") + ", " + value)
        } else {
            self.add(name: name, value: value)
        }
    }
}
