import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An origin that misbehaves on purpose, for the faults no real server shows on demand:
/// one that resets mid-body, one that never answers (black hole), one that closes without a
/// word, and a minimal protocol upgrade (101, then echo) for WebSocket-style tunnels.
final class ScriptedOrigin: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Sends a head promising `promised` bytes, `sent` of them, then resets the connection.
        case resetMidBody(promised: Int, sent: Int)
        /// Accepts and reads, never answers.
        case blackHole
        /// Reads the request and closes without answering.
        case closeWithoutAnswer
        /// Answers 101 Switching Protocols and echoes every byte back.
        case upgradeEcho
        /// The same, but answers only `seconds` after the request came.
        case upgradeEchoAfter(seconds: Double)
        /// Sends exactly these bytes, then closes.
        case raw(String)
        /// Reads until the client's EOF, then sends `count` bytes and closes.
        case replyAfterEOF(count: Int)
    }

    let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    private let lock = NSLock()
    private var connections: [Int32] = []
    private var stopped = false

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in self.acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let client = accept(self.listener, nil, nil)
            if client < 0 { return }
            let keep = self.lock.withLock { () -> Bool in
                if self.stopped { return false }
                self.connections.append(client)
                return true
            }
            guard keep else {
                Glibc.close(client)
                return
            }
            Thread.detachNewThread { [self] in self.serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        let socket = RawSocket(adopting: fd, receiveTimeout: 30)
        let request = socket.receive(until: "\r\n\r\n")
        // Bytes that came in behind the head belong to the next stage (the echo).
        let leftover = request.range(of: Data("\r\n\r\n".utf8)).map { request[$0.upperBound...] } ?? Data()
        switch self.behaviour {
        case .resetMidBody(let promised, let sent):
            try? socket.send(
                "HTTP/1.1 200 OK\r\nContent-Length: \(promised)\r\nContent-Type: application/octet-stream\r\n\r\n")
            try? socket.send(Data(repeating: 0x61, count: sent))
            usleep(100_000)
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            self.closeConnection(fd)
        case .blackHole:
            while !self.lock.withLock({ self.stopped }) { usleep(50_000) }
        case .closeWithoutAnswer:
            self.closeConnection(fd)
        case .replyAfterEOF(let count):
            _ = socket.receiveUntilClose()
            try? socket.send(payload(count, seed: 21))
            self.closeConnection(fd)
        case .raw(let bytes):
            try? socket.send(bytes)
            usleep(50_000)
            self.closeConnection(fd)
        case .upgradeEcho, .upgradeEchoAfter:
            if case .upgradeEchoAfter(let seconds) = self.behaviour { usleep(UInt32(seconds * 1_000_000)) }
            try? socket.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            if !leftover.isEmpty { try? socket.send(Data(leftover)) }
            while true {
                let data = socket.receiveSome()
                if data.isEmpty { break }
                try? socket.send(data)
            }
            self.closeConnection(fd)
        }
    }

    private func closeConnection(_ fd: Int32) {
        self.lock.withLock {
            self.connections.removeAll { $0 == fd }
        }
        shutdown(fd, Int32(SHUT_RDWR))
    }

    func stop() {
        let open = self.lock.withLock { () -> [Int32] in
            self.stopped = true
            return self.connections
        }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        shutdown(self.listener, Int32(SHUT_RDWR))
        Glibc.close(self.listener)
    }
}
