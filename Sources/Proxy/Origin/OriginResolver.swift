import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Resolves origin host names. IP literals are answered at once on the event loop; names go
/// to `getaddrinfo` on a small thread pool so no event loop ever blocks on DNS.
struct OriginResolver: Sendable {
    let threadPool: NIOThreadPool

    /// How long a lookup may take before the client is told the name did not resolve.
    let timeout: TimeAmount

    func resolve(host: String, port: Int, on loop: any EventLoop) -> EventLoopFuture<[SocketAddress]> {
        if let literal = try? SocketAddress(ipAddress: host, port: port) {
            return loop.makeSucceededFuture([literal])
        }
        // The lookup itself cannot be cancelled, but the exchange need not wait for it.
        let promise = loop.makePromise(of: [SocketAddress].self)
        let timer = loop.scheduleTask(in: self.timeout) {
            promise.fail(NameResolutionError(host: host, detail: "no answer in time"))
        }
        self.threadPool.runIfActive(eventLoop: loop) {
            try Self.resolveBlocking(host: host, port: port)
        }.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return promise.futureResult
    }

    /// Blocking resolution of every address of `host` (IPv6 and IPv4).
    static func resolveBlocking(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw NameResolutionError(host: host, detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sockaddr = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    addresses.append(SocketAddress(v4, host: host))
                case AF_INET6:
                    let v6 = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    addresses.append(SocketAddress(v6, host: host))
                default:
                    break
                }
            }
            cursor = info.pointee.ai_next
        }
        if addresses.isEmpty { throw NameResolutionError(host: host, detail: "no IPv4 or IPv6 address") }
        return addresses
    }
}

/// A host name that did not resolve.
struct NameResolutionError: Error, CustomStringConvertible {
    let host: String
    let detail: String
    var description: String { "cannot resolve '\(self.host)': \(self.detail)" }
}

/// Hands already-resolved (and already-vetted) addresses to NIO's Happy Eyeballs connector.
final class ResolvedAddresses: Resolver, Sendable {
    private let addresses: [SocketAddress]
    private let loop: any EventLoop

    init(_ addresses: [SocketAddress], loop: any EventLoop) {
        self.addresses = addresses
        self.loop = loop
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.loop.makeSucceededFuture(self.addresses.filter { $0.protocol == .inet })
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.loop.makeSucceededFuture(self.addresses.filter { $0.protocol == .inet6 })
    }

    func cancelQueries() {}
}
