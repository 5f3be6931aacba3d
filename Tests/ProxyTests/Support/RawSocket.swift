import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP socket with a receive timeout: the test's hand on the wire when curl
/// cannot send what is needed (malformed requests, slow heads, raw tunnels).
final class RawSocket {
    let fd: Int32

    init(host: String = "127.0.0.1", port: Int, receiveTimeout: Double = 5) throws {
        let isIPv6 = host.contains(":")
        self.fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(
            tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1_000_000))
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            address.sin6_port = UInt16(port).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(host)
            address.sin_port = UInt16(port).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            Glibc.close(self.fd)
            throw SocketError(detail: "connect to \(host):\(port) failed: \(String(cString: strerror(errno)))")
        }
    }

    init(adopting fd: Int32, receiveTimeout: Double = 5) {
        self.fd = fd
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    struct SocketError: Error, CustomStringConvertible {
        let detail: String
        var description: String { self.detail }
    }

    func send(_ text: String) throws { try self.send(Data(text.utf8)) }

    func send(_ data: Data) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(self.fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw SocketError(detail: "send failed: \(String(cString: strerror(errno)))") }
                offset += sent
            }
        }
    }

    /// Sends as much of `data` as the kernel takes without blocking, for `seconds`; returns
    /// how many bytes it took. (What a peer that does not read leaves room for: both sockets'
    /// buffers.)
    func sendWithoutBlocking(_ data: Data, for seconds: Double) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        return data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count && Date() < deadline {
                let sent = Glibc.send(
                    self.fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if sent > 0 {
                    offset += sent
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    usleep(10_000)
                } else {
                    break
                }
            }
            return offset
        }
    }

    /// Reads until `count` bytes have come (or EOF/timeout).
    func receive(count: Int) -> Data {
        var all = Data()
        while all.count < count {
            let chunk = self.receiveSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        return all
    }

    /// Reads what is available (blocking up to the timeout); empty at EOF or timeout.
    func receiveSome() -> Data {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(self.fd, &buffer, buffer.count, 0)
        return count > 0 ? Data(buffer[0..<count]) : Data()
    }

    /// Reads until the peer closes (or the timeout passes with nothing new).
    func receiveUntilClose() -> Data {
        var all = Data()
        while true {
            let chunk = self.receiveSome()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Reads until `marker` has been seen, or EOF/timeout.
    func receive(until marker: String) -> Data {
        var all = Data()
        let needle = Data(marker.utf8)
        while all.range(of: needle) == nil {
            let chunk = self.receiveSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        return all
    }

    /// True if the peer closed the connection (EOF or reset) within the timeout.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let count = recv(self.fd, &byte, 1, 0)
        if count == 0 { return true }
        if count < 0 && errno == ECONNRESET { return true }
        return false
    }

    func shutdownWrite() { shutdown(self.fd, Int32(SHUT_WR)) }

    func close() { Glibc.close(self.fd) }

    deinit { Glibc.close(self.fd) }
}
