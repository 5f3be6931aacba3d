/// A line of a hosts file: an address, then host names (`0.0.0.0 ads.example.com`).
///
/// The address is dropped; each name becomes a domain entry. The names every hosts file
/// carries for itself (`localhost`, `localhost.localdomain`, `broadcasthost`, `ip6-…`,
/// `0.0.0.0`) are skipped silently.
enum HostsLine {
    /// Reports one outcome per name on the line (or one problem for the line).
    static func parse(_ content: UnsafeBufferPointer<UInt8>, _ report: (LineOutcome) -> Void) {
        var tokens = Self.tokens(content)
        guard let address = tokens.next(), Self.isAddress(address) else {
            report(.problem("expected an address followed by host names"))
            return
        }
        var names = 0
        while let name = tokens.next() {
            names += 1
            if Self.isOwnName(name) {
                report(.ignored)
                continue
            }
            do {
                report(.value(try HostName.normalized(utf8: name)))
            } catch {
                report(.problem("'\(String(decoding: name, as: UTF8.self))' \(error.reason)"))
            }
        }
        if names == 0 { report(.problem("has an address but no host name")) }
    }

    /// An IPv4 literal, or something made of hex digits, `:` and `.` with at least one `:`
    /// (an IPv6 address), optionally followed by a `%zone`.
    static func isAddress(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        if HostName.isIPv4Literal(utf8: token) { return true }
        let address = token.prefix { $0 != UInt8(ascii: "%") }
        guard address.contains(UInt8(ascii: ":")) else { return false }
        return address.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
    }

    private static let ownNames: Set<[UInt8]> = Set(
        ["localhost", "localhost.localdomain", "broadcasthost", "0.0.0.0"].map { Array($0.utf8) })

    private static func isOwnName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let lowered = name.map { $0 &- UInt8(ascii: "A") < 26 ? $0 | 0x20 : $0 }
        return lowered.starts(with: "ip6-".utf8) || Self.ownNames.contains(lowered)
    }

    private static func tokens(
        _ content: UnsafeBufferPointer<UInt8>
    ) -> some IteratorProtocol<UnsafeBufferPointer<UInt8>> {
        content.split(whereSeparator: \.isBlank).lazy.map { UnsafeBufferPointer(rebasing: $0) }.makeIterator()
    }
}
