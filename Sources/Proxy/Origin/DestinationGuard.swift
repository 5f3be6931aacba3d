import NIOCore

/// Refuses destinations the proxy must never connect to: configured denied networks and the
/// proxy's own listening addresses (a request for the proxy itself would loop forever).
struct DestinationGuard: Sendable {
    var deniedNetworks: [IPNetwork]
    /// The addresses the proxy listens on (port included).
    var listeners: [SocketAddress]

    func isDenied(_ address: SocketAddress) -> Bool {
        if self.deniedNetworks.contains(address: address) { return true }
        guard let port = address.port, let target = IPAddress128(address) else { return false }
        for listener in self.listeners where listener.port == port {
            guard let own = IPAddress128(listener) else { continue }
            // A wildcard listener answers on every local address; loopback always reaches us.
            let wildcard = own.high == 0 && (own.low == 0 || own.low == 0x0000_FFFF_0000_0000)
            if own == target || wildcard || Self.isLoopback(target) { return true }
        }
        return false
    }

    private static func isLoopback(_ address: IPAddress128) -> Bool {
        if address.isIPv4 { return UInt32(truncatingIfNeeded: address.low) >> 24 == 127 }
        return address.high == 0 && address.low == 1
    }
}
