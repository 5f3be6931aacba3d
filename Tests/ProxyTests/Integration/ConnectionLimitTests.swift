import Foundation
import Testing

@testable import Proxy

/// Malformed input on a real socket, timeouts, the connection limit and graceful shutdown.
extension Integration {
    @Suite struct ConnectionLimitTests {
        /// Sends raw bytes and returns everything the proxy answers before it closes.
        private func exchange(_ proxy: RunningProxy, _ request: String) throws -> String {
            let socket = try RawSocket(port: proxy.port)
            try socket.send(request)
            return String(decoding: socket.receiveUntilClose(), as: UTF8.self)
        }

        @Test func smugglingAttemptsGet400AndTheConnectionCloses() async throws {
            try await withProxyAndNginx { proxy, nginx, _ in
                let target = nginx.base + "/echo"
                let cases = [
                    // Content-Length and Transfer-Encoding together.
                    "POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    // Two different Content-Lengths.
                    "POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
                    // A chunk size that is not hex.
                    "POST \(target) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                    // A transfer coding that does not end in chunked.
                    "POST \(target) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
                    // A malformed request line.
                    "GARBAGE\r\n\r\n",
                    // A header line without a colon.
                    "GET \(target) HTTP/1.1\r\nHost x\r\n\r\n",
                ]
                for request in cases {
                    let answer = try self.exchange(proxy, request)
                    #expect(
                        answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"),
                        "for \(request.debugDescription): \(answer.prefix(60))")
                }
                let originLog = (try? String(contentsOfFile: nginx.directory.file("access.log"), encoding: .utf8)) ?? ""
                #expect(!originLog.contains("POST"))
            }
        }

        @Test func originFormRequestIsRefusedWith400() async throws {
            try await withProxyAndNginx { proxy, _, _ in
                let answer = try self.exchange(
                    proxy, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
                #expect(answer.contains("absolute URL"))
            }
        }

        @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
            try await withProxyAndNginx { proxy, nginx, _ in
                try nginx.writeFile("one", Data("first".utf8))
                try nginx.writeFile("two", Data("second".utf8))
                let socket = try RawSocket(port: proxy.port)
                try socket.send(
                    "GET \(nginx.base)/one HTTP/1.1\r\nHost: x\r\n\r\nHEAD \(nginx.base)/two HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET \(nginx.base)/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                let statuses = answer.components(separatedBy: "HTTP/1.1 200 OK").count - 1
                #expect(statuses == 3)
                let first = try #require(answer.range(of: "first"))
                let second = try #require(answer.range(of: "second"))
                #expect(first.lowerBound < second.lowerBound)
                // The HEAD answer carries Content-Length: 6 but no body: "second" appears once.
                #expect(answer.components(separatedBy: "second").count - 1 == 1)
            }
        }

        @Test func slowRequestHeadGets408() async throws {
            try await withProxyAndNginx({ $0.headerTimeout = .seconds(1) }) { proxy, nginx, _ in
                let socket = try RawSocket(port: proxy.port)
                try socket.send("GET \(nginx.base)/ HTTP/1.1\r\nHost: x\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
            }
        }

        @Test func idleKeepAliveConnectionIsClosed() async throws {
            try await withProxyAndNginx({ $0.idleTimeout = .seconds(1) }) { proxy, _, _ in
                let socket = try RawSocket(port: proxy.port)
                #expect(socket.isClosedByPeer())
            }
        }

        @Test func acceptingPausesAtTheConnectionLimit() async throws {
            try await withProxyAndNginx({ $0.maxClientConnections = 1 }) { proxy, nginx, scratch in
                try nginx.writeFile("x", Data("x".utf8))
                let holder = try RawSocket(port: proxy.port)
                try holder.send("GET \(nginx.base)/x HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(String(decoding: holder.receive(until: "\r\n\r\nx"), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
                // The second client is not served while the first holds the only slot.
                let blocked = try proxy.curl.get(nginx.base + "/x", ["--max-time", "1"], directory: scratch)
                #expect(blocked.status != 200)
                holder.close()
                #expect(
                    await eventually {
                        (try? proxy.curl.get(nginx.base + "/x", ["--max-time", "2"], directory: scratch).status) == 200
                    })
            }
        }

        @Test func shutdownLetsTheExchangeInFlightFinish() async throws {
            let nginx = try Nginx()
            defer { nginx.stop() }
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let proxy = try await RunningProxy()
            let curl = proxy.curl
            let url = nginx.base + "/slow"
            async let slow = onThread { try curl.get(url, directory: scratch) }
            // Wait until the client is connected and its request on the way (the origin takes a
            // second to answer), then shut down while the exchange is in flight.
            #expect(await eventually { proxy.server.openClientConnections >= 1 })
            try await Task.sleep(nanoseconds: 300_000_000)
            await proxy.shutdownKeepingFiles()
            let response = try await slow
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "slow answer\n")
            #expect(!FreePort.accepts(port: proxy.port))
            #expect((try? RawSocket(host: "::1", port: proxy.portIPv6 ?? 0)) == nil)
            #expect(proxy.accessLog().contains("/slow"))
            proxy.directory.remove()
        }
    }
}
