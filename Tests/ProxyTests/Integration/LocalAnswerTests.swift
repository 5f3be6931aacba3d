import Foundation
import Policy
import Testing

@testable import Proxy

/// The answers the proxy gives itself, each with an honest status and a page, to real curl.
extension Integration {
    @Suite struct LocalAnswerTests {
        @Test func unsupportedSchemeGets501WithAnEscapedPage() async throws {
            try await withProxyAndNginx { proxy, _, scratch in
                let response = try proxy.curl.get("ftp://example.com/<b>", directory: scratch)
                #expect(response.status == 501)
                let page = String(decoding: response.body, as: UTF8.self)
                #expect(page.contains("ftp://example.com/&lt;b&gt;"))
                #expect(!page.contains("<b>"))
                #expect(response.header("Content-Type") == "text/html; charset=utf-8")
            }
        }

        @Test func refusedConnectionGets502() async throws {
            try await withProxyAndNginx { proxy, _, scratch in
                let closedPort = try FreePort.pick()
                let response = try proxy.curl.get("http://127.0.0.1:\(closedPort)/", directory: scratch)
                #expect(response.status == 502)
                #expect(response.header("X-Portcullis-Error") == "origin_unreachable")
            }
        }

        @Test func unresolvableNameGets503() async throws {
            try await withProxyAndNginx { proxy, _, scratch in
                let response = try proxy.curl.get("http://no-such-host.invalid/", directory: scratch)
                #expect(response.status == 503)
                #expect(String(decoding: response.body, as: UTF8.self).contains("no-such-host.invalid"))
            }
        }

        @Test func silentOriginGets504AfterTheReadTimeout() async throws {
            let origin = try ScriptedOrigin(.blackHole)
            defer { origin.stop() }
            try await withProxyAndNginx({ $0.originReadTimeout = .seconds(1) }) { proxy, _, scratch in
                let response = try proxy.curl.get("http://127.0.0.1:\(origin.port)/", directory: scratch)
                #expect(response.status == 504)
            }
        }

        @Test func originClosingWithoutAnswerGets502() async throws {
            let origin = try ScriptedOrigin(.closeWithoutAnswer)
            defer { origin.stop() }
            try await withProxyAndNginx { proxy, _, scratch in
                let response = try proxy.curl.get("http://127.0.0.1:\(origin.port)/", directory: scratch)
                #expect(response.status == 502)
            }
        }

        @Test func originResetMidBodyClosesTheClientConnection() async throws {
            let origin = try ScriptedOrigin(.resetMidBody(promised: 100_000, sent: 1000))
            defer { origin.stop() }
            try await withProxyAndNginx { proxy, _, scratch in
                let response = try proxy.curl.get("http://127.0.0.1:\(origin.port)/", directory: scratch)
                #expect(response.status == 200)
                #expect(response.body.count == 1000)
                // curl: 18 = partial file (the connection closed short of Content-Length).
                #expect(response.exitCode == 18)
            }
        }

        @Test(arguments: [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nBad Field Name: x\r\n\r\n",
            "HTTP/9.9 200 OK\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ])
        func malformedOriginResponseGets502(response: String) async throws {
            let origin = try ScriptedOrigin(.raw(response))
            defer { origin.stop() }
            try await withProxyAndNginx { proxy, _, scratch in
                let answer = try proxy.curl.get("http://127.0.0.1:\(origin.port)/", directory: scratch)
                #expect(answer.status == 502, "\(response.debugDescription)")
                #expect(answer.header("X-Portcullis-Error") == "origin_unreachable")
            }
        }

        @Test func brokenChunkedBodyClosesTheClientConnection() async throws {
            let origin = try ScriptedOrigin(
                .raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"))
            defer { origin.stop() }
            try await withProxyAndNginx { proxy, _, scratch in
                let answer = try proxy.curl.get("http://127.0.0.1:\(origin.port)/", directory: scratch)
                #expect(answer.status == 200)
                #expect(String(decoding: answer.body, as: UTF8.self) == "hello")
                // The chunked response to the client is cut short: curl reports an error.
                #expect(answer.exitCode != 0)
            }
        }

        @Test func clientOutsideAllowedNetworksGets403() async throws {
            try await withProxyAndNginx({ $0.allowedClients = [try! IPNetwork(parsing: "10.0.0.0/8")] }) {
                proxy, nginx, scratch in
                let response = try proxy.curl.get(nginx.base + "/", directory: scratch)
                #expect(response.status == 403)
                #expect(response.header("X-Portcullis-Error") == "client_denied")
                let originLog = (try? String(contentsOfFile: nginx.directory.file("access.log"), encoding: .utf8)) ?? ""
                #expect(originLog.isEmpty)
            }
        }

        @Test func deniedDestinationAndTheProxyItselfGet403() async throws {
            try await withProxyAndNginx({ $0.deniedDestinations = [try! IPNetwork(parsing: "::1/128")] }) {
                proxy, nginx, scratch in
                let denied = try proxy.curl.get(nginx.baseIPv6 + "/", directory: scratch)
                #expect(denied.status == 403)
                #expect(denied.header("X-Portcullis-Error") == "destination_denied")
                let loop = try proxy.curl.get("http://127.0.0.1:\(proxy.port)/", directory: scratch)
                #expect(loop.status == 403)
                let loopByName = try proxy.curl.get("http://localhost:\(proxy.port)/", directory: scratch)
                #expect(loopByName.status == 403)
            }
        }

        @Test func oversizeRequestHeadGets431() async throws {
            try await withProxyAndNginx({ $0.maxHeaderBytes = 8 * 1024 }) { proxy, nginx, scratch in
                let big = String(repeating: "a", count: 9 * 1024)
                let response = try proxy.curl.get(nginx.base + "/", ["-H", "X-Big: " + big], directory: scratch)
                #expect(response.status == 431)
                let fine = try proxy.curl.get(
                    nginx.base + "/", ["-H", "X-Small: " + String(big.prefix(1000))], directory: scratch)
                #expect(fine.status != 431)
            }
        }

        @Test func oversizeBodyGets413() async throws {
            try await withProxyAndNginx({ $0.maxRequestBodyBytes = 1000 }) { proxy, nginx, scratch in
                try scratch.write("upload", payload(5000))
                let declared = try proxy.curl.get(
                    nginx.base + "/echo", ["--data-binary", "@" + scratch.file("upload")], directory: scratch)
                #expect(declared.status == 413)
                let chunked = try proxy.curl.get(
                    nginx.base + "/echo",
                    ["--data-binary", "@" + scratch.file("upload"), "-H", "Transfer-Encoding: chunked"],
                    directory: scratch)
                #expect(chunked.status == 413 || chunked.exitCode != 0)
            }
        }
    }
}
