import NIOCore
import Policy
import Testing

@testable import Proxy

struct DestinationGuardTests {
    private func address(_ ip: String, _ port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: port)
    }

    @Test func theProxysOwnListenersAreNeverADestination() throws {
        let guardian = DestinationGuard(
            deniedNetworks: [], listeners: [try self.address("127.0.0.1", 3128), try self.address("::1", 3128)])
        #expect(guardian.isDenied(try self.address("127.0.0.1", 3128)))
        #expect(guardian.isDenied(try self.address("::1", 3128)))
        #expect(guardian.isDenied(try self.address("0.0.0.0", 3128)))
        #expect(guardian.isDenied(try self.address("::", 3128)))
        #expect(!guardian.isDenied(try self.address("127.0.0.1", 8080)))
        // Another host (or another loopback address) with the same port is not this proxy.
        #expect(!guardian.isDenied(try self.address("192.0.2.1", 3128)))
        #expect(!guardian.isDenied(try self.address("127.0.0.2", 3128)))
    }

    @Test func wildcardListenersCoverEveryLocalAddress() throws {
        let guardian = DestinationGuard(
            deniedNetworks: [], listeners: [try self.address("0.0.0.0", 3128)],
            localAddresses: [try self.address("192.0.2.1", 0)])
        #expect(guardian.isDenied(try self.address("192.0.2.1", 3128)))
        #expect(guardian.isDenied(try self.address("127.0.0.5", 3128)))
        #expect(!guardian.isDenied(try self.address("192.0.2.1", 80)))
        // A wildcard listener does not make the port forbidden on other hosts.
        #expect(!guardian.isDenied(try self.address("198.51.100.7", 3128)))
    }

    @Test func deniedNetworksAreRefused() throws {
        let guardian = DestinationGuard(deniedNetworks: [try IPNetwork(parsing: "169.254.0.0/16")], listeners: [])
        #expect(guardian.isDenied(try self.address("169.254.169.254", 80)))
        #expect(!guardian.isDenied(try self.address("192.0.2.1", 80)))
    }
}
