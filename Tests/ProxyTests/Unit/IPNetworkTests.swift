import NIOCore
import Policy
import Testing

@testable import Proxy

struct IPNetworkTests {
    private func address(_ ip: String) throws -> SocketAddress { try SocketAddress(ipAddress: ip, port: 0) }

    @Test func ipv4NetworksMatchTheirMembersOnly() throws {
        let network = try IPNetwork(parsing: "172.16.0.0/12")
        #expect(network.contains(try self.address("172.16.0.1")))
        #expect(network.contains(try self.address("172.31.255.255")))
        #expect(!network.contains(try self.address("172.32.0.0")))
        #expect(!network.contains(try self.address("::1")))
    }

    @Test func ipv6NetworksMatchTheirMembersOnly() throws {
        let network = try IPNetwork(parsing: "fc00::/7")
        #expect(network.contains(try self.address("fd12:3456::1")))
        #expect(!network.contains(try self.address("fe80::1")))
        #expect(!network.contains(try self.address("10.0.0.1")))
    }

    @Test func ipv4MappedClientsMatchIPv4Networks() throws {
        let network = try IPNetwork(parsing: "127.0.0.0/8")
        #expect(network.contains(try self.address("::ffff:127.0.0.1")))
    }

    @Test func singleAddressesAndZeroPrefixes() throws {
        #expect(try IPNetwork(parsing: "::1").contains(try self.address("::1")))
        #expect(!(try IPNetwork(parsing: "::1")).contains(try self.address("::2")))
        #expect(try IPNetwork(parsing: "0.0.0.0/0").contains(try self.address("203.0.113.7")))
        #expect(try IPNetwork(parsing: "::/0").contains(try self.address("2001:db8::7")))
    }

    @Test func hostBitsAreMaskedAndDescribed() throws {
        #expect(try IPNetwork(parsing: "10.1.2.3/8").description == "10.0.0.0/8")
        #expect(try IPNetwork(parsing: "2001:db8::1/32").description == "2001:db8::/32")
    }

    @Test func malformedNetworksAreRejected() {
        for text in ["", "10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/-1", "10.0.0.0/x"] {
            #expect(throws: IPNetworkError.self, "\(text)") { try IPNetwork(parsing: text) }
        }
    }

    @Test func defaultAllowedClientsAreLoopbackAndPrivate() throws {
        let allowed = IPNetwork.localAndPrivate
        for ip in ["127.0.0.1", "::1", "10.9.8.7", "172.20.0.1", "192.168.1.1", "fd00::1"] {
            #expect(allowed.contains(address: try self.address(ip)), "\(ip)")
        }
        for ip in ["8.8.8.8", "2001:db8::1", "172.32.0.1", "::2"] {
            #expect(!allowed.contains(address: try self.address(ip)), "\(ip)")
        }
    }

    @Test func ipv6AddressesArePrintedCompressed() throws {
        #expect(IPAddress128(try self.address("::1"))?.description == "::1")
        #expect(IPAddress128(try self.address("2001:db8:0:0:1:0:0:1"))?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress128(try self.address("fe80::"))?.description == "fe80::")
        #expect(IPAddress128(try self.address("1:2:3:4:5:6:7:8"))?.description == "1:2:3:4:5:6:7:8")
        #expect(IPAddress128(try self.address("192.0.2.1"))?.description == "192.0.2.1")
    }
}

struct HostAndPortTests {
    @Test func parsesIPv4IPv6AndNames() throws {
        #expect(try HostAndPort(parsing: "127.0.0.1:3128") == HostAndPort(host: "127.0.0.1", port: 3128))
        #expect(try HostAndPort(parsing: "[::1]:3128") == HostAndPort(host: "::1", port: 3128))
        #expect(try HostAndPort(parsing: "proxy.lan:8080") == HostAndPort(host: "proxy.lan", port: 8080))
        #expect(try HostAndPort(parsing: "[::1]:3128").description == "[::1]:3128")
    }

    @Test func rejectsWhatIsNotAnAddress() {
        for text in ["::1:3128", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":3128", "[::1", "[::1]3128", "a b:1"] {
            #expect(throws: HostAndPortError.self, "\(text)") { try HostAndPort(parsing: text) }
        }
    }
}
