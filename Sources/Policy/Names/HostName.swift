// Placeholder until the importer branch lands (ASCII only).
public struct HostNameError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

public enum HostName {
    public static func normalized(_ text: some StringProtocol) throws(HostNameError) -> String {
        var value = String(text).lowercased()
        if value.hasSuffix(".") { value.removeLast() }
        guard !value.isEmpty,
            value.utf8.allSatisfy({
                $0 == 0x2E || $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A)
            })
        else {
            throw HostNameError(description: "invalid host name '\(text)'")
        }
        return value
    }
}
