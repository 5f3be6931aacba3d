import Foundation
import Testing

@testable import Proxy

/// CONNECT tunnels and protocol upgrades, with curl and with raw sockets.
extension Integration {
    @Suite struct TunnelTests {
        /// A proxy that may CONNECT to a scripted target, for tests that talk raw bytes.
        private func withTarget(
            _ behaviour: ScriptedOrigin.Behaviour, _ body: (RunningProxy, ScriptedOrigin) async throws -> Void
        ) async throws {
            let origin = try ScriptedOrigin(behaviour)
            defer { origin.stop() }
            try await withProxyAndNginx({ $0.connectPorts = [origin.port] }) { proxy, _, _ in
                try await body(proxy, origin)
            }
        }

        /// A client socket through which a tunnel to `origin` is established.
        private func openTunnel(_ proxy: RunningProxy, to origin: ScriptedOrigin) throws -> RawSocket {
            let socket = try RawSocket(port: proxy.port)
            try socket.send("CONNECT 127.0.0.1:\(origin.port) HTTP/1.1\r\nHost: x\r\n\r\n")
            let established = String(decoding: socket.receive(until: "\r\n\r\n"), as: UTF8.self)
            #expect(established.hasPrefix("HTTP/1.1 200 Connection established\r\n"))
            return socket
        }

        @Test func connectTunnelCarriesALargeDownloadIntact() async throws {
            let nginx = try Nginx()
            defer { nginx.stop() }
            try await withProxyAndNginx({ $0.connectPorts = [nginx.port] }) { proxy, _, scratch in
                let body = payload(16 * 1024 * 1024, seed: 5)
                try nginx.writeFile("t", body)
                let response = try proxy.curl.get(nginx.base + "/t", ["-p"], directory: scratch)
                #expect(response.status == 200)
                #expect(response.headers.contains("200 Connection established"))
                #expect(sameBytes(response.body, body))
                #expect(await eventually { proxy.accessLog().contains("TCP_TUNNEL/200") })
            }
        }

        @Test func connectToAPortNotAllowedGets403() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let response = try proxy.curl.get(nginx.base + "/", ["-p"], directory: scratch)
                #expect(response.exitCode != 0)
                #expect(response.stderr.contains("403"))
                #expect(await eventually { proxy.accessLog().contains("TCP_DENIED/403") })
            }
        }

        @Test func connectToAClosedPortGets502() async throws {
            let closedPort = try FreePort.pick()
            try await withProxyAndNginx({ $0.connectPorts = [closedPort] }) { proxy, _, _ in
                let socket = try RawSocket(port: proxy.port)
                try socket.send("CONNECT 127.0.0.1:\(closedPort) HTTP/1.1\r\nHost: 127.0.0.1:\(closedPort)\r\n\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
            }
        }

        @Test func halfCloseLosesNoByteAtTheEndOfATransfer() async throws {
            try await self.withTarget(.upgradeEcho) { proxy, origin in
                let socket = try self.openTunnel(proxy, to: origin)
                // The scripted origin answers a head, then echoes: send a head and a tail, then EOF.
                let tail = payload(200_000, seed: 3)
                try socket.send("HELLO\r\n\r\n")
                try socket.send(tail)
                socket.shutdownWrite()
                let received = socket.receiveUntilClose()
                let head = Data(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
                #expect(received.starts(with: head))
                #expect(sameBytes(received.dropFirst(head.count), tail))
            }
        }

        @Test func halfCloseBeforeTheTunnelIsReadyIsPassedOn() async throws {
            try await self.withTarget(.upgradeEcho) { proxy, origin in
                let socket = try RawSocket(port: proxy.port)
                // Request, payload and EOF in one go, before the proxy has even connected.
                try socket.send("CONNECT 127.0.0.1:\(origin.port) HTTP/1.1\r\nHost: x\r\n\r\nHELLO\r\n\r\nlast words")
                socket.shutdownWrite()
                let received = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(received.hasPrefix("HTTP/1.1 200 Connection established\r\n"))
                #expect(received.hasSuffix("\r\n\r\nlast words"))
            }
        }

        @Test func aTargetAnsweringAfterTheClientsEOFIsHeardInFull() async throws {
            // The client half-closes first; the target then sends megabytes and closes. Every
            // byte must reach the client before the tunnel closes its side.
            try await self.withTarget(.replyAfterEOF(count: 6 * 1024 * 1024)) { proxy, origin in
                let socket = try self.openTunnel(proxy, to: origin)
                try socket.send("request")
                socket.shutdownWrite()
                let received = socket.receiveUntilClose()
                #expect(received.count == 6 * 1024 * 1024)
                #expect(sameBytes(received, payload(6 * 1024 * 1024, seed: 21)))
            }
        }

        @Test func bytesAndEOFAfterAnUpgradeRequestReachTheNewProtocol() async throws {
            try await self.withTarget(.upgradeEcho) { proxy, origin in
                let socket = try RawSocket(port: proxy.port)
                try socket.send(
                    "GET http://127.0.0.1:\(origin.port)/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                        + "Upgrade: websocket\r\n\r\nearly frame")
                socket.shutdownWrite()
                let received = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(received.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
                #expect(received.hasSuffix("\r\n\r\nearly frame"))
            }
        }

        @Test func aClientIsNotReadWhileItsUpgradeRequestWaitsForTheAnswer() async throws {
            // The origin answers the upgrade two seconds late. Meanwhile the client pushes all it
            // can for a second: the proxy must leave it in the socket, where TCP pushes back,
            // not read it into memory (96 MiB would all go in a moment). After the 101, what
            // the kernel took comes back through the tunnel, whole and in order.
            try await self.withTarget(.upgradeEchoAfter(seconds: 2)) { proxy, origin in
                let socket = try RawSocket(port: proxy.port, receiveTimeout: 10)
                try socket.send(
                    "GET http://127.0.0.1:\(origin.port)/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                        + "Upgrade: websocket\r\n\r\n")
                let early = payload(96 * 1024 * 1024, seed: 5)
                let accepted = socket.sendWithoutBlocking(early, for: 1)
                // The sending and receiving buffers of a loopback connection grow to 4 and 32 MiB
                // at most here (net.ipv4.tcp_wmem, tcp_rmem).
                #expect(accepted < 48 * 1024 * 1024, "\(accepted) bytes taken before the origin answered")
                let head = Data("HTTP/1.1 101 Switching Protocols\r\n".utf8)
                var received = socket.receive(until: "\r\n\r\n")
                let bodyStart = try #require(received.range(of: Data("\r\n\r\n".utf8))).upperBound
                received += socket.receive(count: bodyStart + accepted - received.count)
                #expect(received.starts(with: head))
                #expect(sameBytes(received[bodyStart...], early.prefix(accepted)))
            }
        }

        @Test func bytesSentWithTheConnectHeadReachTheTarget() async throws {
            try await self.withTarget(.upgradeEcho) { proxy, origin in
                let socket = try RawSocket(port: proxy.port)
                // A client that does not wait for the 200 (TLS false start style).
                try socket.send("CONNECT 127.0.0.1:\(origin.port) HTTP/1.1\r\nHost: x\r\n\r\nEARLY\r\n\r\nafter")
                let received = String(decoding: socket.receive(until: "after"), as: UTF8.self)
                #expect(received.contains("200 Connection established"))
                #expect(received.hasSuffix("after"))
            }
        }

        @Test func webSocketUpgradeBecomesATunnel() async throws {
            try await self.withTarget(.upgradeEcho) { proxy, origin in
                let socket = try RawSocket(port: proxy.port)
                try socket.send(
                    "GET http://127.0.0.1:\(origin.port)/chat HTTP/1.1\r\nHost: 127.0.0.1:\(origin.port)\r\n"
                        + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                let head = String(decoding: socket.receive(until: "\r\n\r\n"), as: UTF8.self)
                #expect(head.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
                #expect(head.lowercased().contains("upgrade: websocket"))
                try socket.send("ping-frame")
                #expect(String(decoding: socket.receive(until: "ping-frame"), as: UTF8.self) == "ping-frame")
                try socket.send("second")
                #expect(String(decoding: socket.receive(until: "second"), as: UTF8.self) == "second")
            }
        }
    }
}
