/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `fc00::/7`, or a single address).
///
/// Addresses are kept as 128-bit values; IPv4 networks use the IPv4-mapped range
/// (`::ffff:0:0/96`), so an IPv4 client seen on a dual-stack socket matches IPv4 networks.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    let high: UInt64
    let low: UInt64
    /// The prefix length in the 128-bit space.
    let prefix: Int
    let isIPv4: Bool

    public init(parsing text: some StringProtocol) throws(IPNetworkError) {
        let text = String(text).trimmingSpaces()
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress128(parsing: parts[0]) else {
            throw IPNetworkError(input: text, problem: "'\(parts[0])' is not an IPv4 or IPv6 address")
        }
        let maxPrefix = address.isIPv4 ? 32 : 128
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maxPrefix).contains(value) else {
                throw IPNetworkError(input: text, problem: "prefix length must be 0…\(maxPrefix)")
            }
            prefix = value
        }
        let fullPrefix = address.isIPv4 ? prefix + 96 : prefix
        let (maskHigh, maskLow) = Self.mask(fullPrefix)
        self.high = address.high & maskHigh
        self.low = address.low & maskLow
        self.prefix = fullPrefix
        self.isIPv4 = address.isIPv4
    }

    public func contains(_ address: IPAddress128) -> Bool {
        let (maskHigh, maskLow) = Self.mask(self.prefix)
        return address.high & maskHigh == self.high && address.low & maskLow == self.low
    }

    private static func mask(_ prefix: Int) -> (UInt64, UInt64) {
        let high: UInt64 = prefix >= 64 ? .max : (prefix == 0 ? 0 : ~(UInt64.max >> UInt64(prefix)))
        let lowBits = prefix - 64
        let low: UInt64 = lowBits <= 0 ? 0 : (lowBits >= 64 ? .max : ~(UInt64.max >> UInt64(lowBits)))
        return (high, low)
    }

    public var description: String {
        let address = IPAddress128(high: self.high, low: self.low, isIPv4: self.isIPv4)
        return "\(address)/\(self.isIPv4 ? self.prefix - 96 : self.prefix)"
    }

    /// Loopback and private ranges: the default allowed clients.
    public static let localAndPrivate: [IPNetwork] = [
        "127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    ].map { try! IPNetwork(parsing: $0) }
}

public struct IPNetworkError: Error, CustomStringConvertible, Sendable {
    public let input: String
    public let problem: String
    public var description: String { "invalid network '\(self.input)': \(self.problem)" }
}
