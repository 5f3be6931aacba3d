/// A line of a squidGuard `urls` file: `host/path`, a URL prefix.
///
/// Stored as `host/path`: a leading `http://` or `https://` and a `:port` are removed, the
/// host is normalised with ``HostName`` and loses a leading `www.`, `www1.`, `www2.`… label
/// (squidGuard semantics: `www.example.com/a` is `example.com/a`; the label is kept when
/// nothing with a dot would remain), and the path is kept byte for byte, case included.
enum URLLine {
    static func parse(_ content: UnsafeBufferPointer<UInt8>) -> LineOutcome {
        var start = 0
        if Self.hasPrefix(content, "http://") {
            start = 7
        } else if Self.hasPrefix(content, "https://") {
            start = 8
        }
        let slash = content[start...].firstIndex(of: UInt8(ascii: "/")) ?? content.count
        var hostEnd = slash
        if let colon = content[start..<slash].lastIndex(of: UInt8(ascii: ":")) {
            let port = content[(colon + 1)..<slash]
            if colon + 1 == slash, Self.hasPrefix(UnsafeBufferPointer(rebasing: content[slash...]), "//") {
                return .problem("has a scheme other than http:// or https://")
            }
            if (1...5).contains(port.count), port.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
                hostEnd = colon
            }
        }

        let path = UnsafeBufferPointer(rebasing: content[slash...])
        if let bad = path.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return .problem(bad == .space ? "path contains a space" : "path contains a control character")
        }
        if path.contains(where: { $0 >= 0x80 }), String(validating: path, as: UTF8.self) == nil {
            return .problem("path is not valid UTF-8")
        }

        let host: String
        do {
            host = try HostName.normalized(utf8: UnsafeBufferPointer(rebasing: content[start..<hostEnd]))
        } catch {
            return .problem("host \(error.reason)")
        }
        return .value(Self.withoutWWW(host) + String(decoding: path, as: UTF8.self))
    }

    /// How many leading bytes of `host` are a `www`, `www1`, `www2`… label and its dot, if a
    /// name with a dot remains after them (else 0). The one rule for entries and requests.
    static func wwwPrefixLength(_ host: UnsafeRawBufferPointer) -> Int {
        guard host.count > 4, host[0] == UInt8(ascii: "w"), host[1] == UInt8(ascii: "w"), host[2] == UInt8(ascii: "w")
        else { return 0 }
        var index = 3
        while index < host.count, host[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        guard index < host.count, host[index] == UInt8(ascii: ".") else { return 0 }
        let rest = UnsafeRawBufferPointer(rebasing: host[(index + 1)...])
        return rest.contains(UInt8(ascii: ".")) ? index + 1 : 0
    }

    /// `host` without a leading `www`, `www1`, `www2`… label, if a name with a dot remains.
    static func withoutWWW(_ host: String) -> String {
        var host = host
        let length = host.withUTF8 { Self.wwwPrefixLength(UnsafeRawBufferPointer($0)) }
        return length == 0 ? host : String(Substring(host.utf8.dropFirst(length)))
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        for index in 0..<prefix.utf8CodeUnitCount {
            // Schemes are case-insensitive; the prefixes are lowercase.
            let byte = bytes[index]
            let wanted = prefix.utf8Start[index]
            let lowered = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            if lowered != wanted { return false }
        }
        return true
    }
}
