import NIOCore
import Policy

extension IPAddress128 {
    /// The address of a socket; `nil` for a Unix domain socket.
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4): self.init(ipv4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6): self.init(in6: v6.address.sin6_addr)
        case .unixDomainSocket: return nil
        }
    }
}

extension IPNetwork {
    func contains(_ address: SocketAddress) -> Bool {
        guard let value = IPAddress128(address) else { return false }
        return self.contains(value)
    }
}

extension [IPNetwork] {
    func contains(address: SocketAddress) -> Bool {
        guard let value = IPAddress128(address) else { return false }
        return self.contains { $0.contains(value) }
    }
}
