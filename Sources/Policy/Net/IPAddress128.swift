#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP address as a 128-bit value; IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`).
public struct IPAddress128: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv4: Bool

    public init(high: UInt64, low: UInt64, isIPv4: Bool) {
        self.high = high
        self.low = low
        self.isIPv4 = isIPv4
    }

    public init?(parsing text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        let string = String(text)
        if string.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, string, &storage) == 1 else { return nil }
            self.init(in6: storage)
        } else {
            var storage = in_addr()
            guard inet_pton(AF_INET, string, &storage) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: storage.s_addr))
        }
    }

    /// An IPv4 address, host byte order.
    public init(ipv4 value: UInt32) {
        self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value), isIPv4: true)
    }

    /// An IPv6 address; an IPv4-mapped one (`::ffff:a.b.c.d`, how a dual-stack socket shows
    /// an IPv4 client) counts as IPv4.
    public init(in6 storage: in6_addr) {
        var storage = storage
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: &storage) { bytes in
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        }
        self.init(high: high, low: low, isIPv4: high == 0 && low >> 32 == 0xFFFF)
    }

    public var description: String {
        if self.isIPv4 {
            let value = UInt32(truncatingIfNeeded: self.low)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        }
        var groups: [UInt16] = []
        for shift in stride(from: 48, through: 0, by: -16) {
            groups.append(UInt16(truncatingIfNeeded: self.high >> UInt64(shift)))
        }
        for shift in stride(from: 48, through: 0, by: -16) {
            groups.append(UInt16(truncatingIfNeeded: self.low >> UInt64(shift)))
        }
        // RFC 5952: the longest run (two or more) of zero groups becomes "::".
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
