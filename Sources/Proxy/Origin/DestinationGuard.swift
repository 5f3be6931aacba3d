import NIOCore
import Policy

/// Refuses destinations the proxy must never connect to: configured denied networks, and the
/// proxy's own listening sockets (a request for the proxy itself would loop forever).
struct DestinationGuard: Sendable {
    var deniedNetworks: [IPNetwork]
    /// The addresses the proxy listens on (port included).
    var listeners: [SocketAddress]
    /// This machine's own addresses: what a wildcard listener (`0.0.0.0`, `::`) answers on.
    var localAddresses: [SocketAddress] = []

    func isDenied(_ address: SocketAddress) -> Bool {
        if self.deniedNetworks.contains(address: address) { return true }
        guard let port = address.port, let target = IPAddress128(address) else { return false }
        for listener in self.listeners where listener.port == port {
            guard let own = IPAddress128(listener) else { continue }
            if own == target { return true }
            // Connecting to 0.0.0.0 or :: reaches this host: whichever local socket has the port.
            if target.isUnspecified { return true }
            if own.isUnspecified && (target.isLoopback || self.isLocal(target)) { return true }
        }
        return false
    }

    private func isLocal(_ address: IPAddress128) -> Bool {
        self.localAddresses.contains { IPAddress128($0) == address }
    }
}

extension IPAddress128 {
    var isUnspecified: Bool { self.high == 0 && (self.low == 0 || self.low == 0x0000_FFFF_0000_0000) }

    var isLoopback: Bool {
        if self.isIPv4 { return UInt32(truncatingIfNeeded: self.low) >> 24 == 127 }
        return self.high == 0 && self.low == 1
    }
}
