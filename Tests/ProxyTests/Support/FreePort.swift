import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for peers that must be told a port up front (nginx, squid).
enum FreePort {
    /// A port the kernel just handed out on 127.0.0.1 and [::1] (free on both at that moment).
    static func pick() throws -> Int {
        for _ in 0..<20 {
            let port = try self.bindEphemeral()
            if self.canBind(port: port, ipv6: true) { return port }
        }
        throw NoPort()
    }

    struct NoPort: Error {}
    struct NotListening: Error, CustomStringConvertible {
        let port: Int
        let log: String
        var description: String { "nothing listens on port \(self.port); log:\n\(self.log)" }
    }

    private static func bindEphemeral() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw NoPort() }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func canBind(port: Int, ipv6: Bool) -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        address.sin6_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        } == 0
    }

    /// Waits (bounded) until something accepts TCP connections on 127.0.0.1:`port`.
    static func waitUntilListening(port: Int, process: Process, log: String, seconds: Double = 15) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.accepts(port: port) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw NotListening(port: port, log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}

/// Sockets on this machine connected to `port` on any address, in any state (TIME_WAIT
/// included): from `/proc/net/tcp` and `tcp6`, the remote end's port. How many connections
/// a client opened to a server, recently.
func socketsConnected(toPort port: Int) -> Int {
    var count = 0
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to the end: a /proc table reports no size, and comes a page per read.
        guard let file = FileHandle(forReadingAtPath: table) else { continue }
        let text = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        file.closeFile()
        for line in text.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ")
            guard columns.count > 3, let colon = columns[2].lastIndex(of: ":"),
                let remotePort = Int(columns[2][columns[2].index(after: colon)...], radix: 16)
            else { continue }
            if remotePort == port { count += 1 }
        }
    }
    return count
}
