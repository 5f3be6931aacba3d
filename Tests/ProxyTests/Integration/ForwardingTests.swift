import Foundation
import Testing

@testable import Proxy

/// Forward proxying through the real curl to a real nginx origin.
extension Integration {
    @Suite struct ForwardingTests {
        @Test func getReturnsTheOriginBodyByteForByte() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let body = payload(1024)
                try nginx.writeFile("1k", body)
                let response = try proxy.curl.get(nginx.base + "/1k", directory: scratch)
                #expect(response.status == 200)
                #expect(sameBytes(response.body, body))
                #expect(response.header("Via") == "1.1 portcullis")
            }
        }

        @Test func largeDownloadStreamsIntact() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let body = payload(24 * 1024 * 1024, seed: 7)
                try nginx.writeFile("big", body)
                let response = try proxy.curl.get(nginx.base + "/big", directory: scratch)
                #expect(response.status == 200)
                #expect(response.body.count == body.count)
                #expect(sameBytes(response.body, body))
            }
        }

        @Test func headHasHeadersAndNoBody() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                try nginx.writeFile("1k", payload(1024))
                let response = try proxy.curl.get(nginx.base + "/1k", ["-I"], directory: scratch)
                #expect(response.status == 200)
                #expect(response.header("Content-Length") == "1024")
                // With -I curl writes the head where the body would go: nothing else may follow it.
                #expect(String(decoding: response.body, as: UTF8.self).hasSuffix("\r\n\r\n"))
                // The connection stays usable: a HEAD then a GET on one connection.
                let both = try proxy.curl.run(
                    ["-I", "--next", "-x", proxy.url], urls: [nginx.base + "/1k", nginx.base + "/1k"],
                    directory: scratch)
                #expect(both.status == 200)
            }
        }

        @Test func postBodyArrivesAtTheOriginByteForByte() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let body = payload(3 * 1024 * 1024, seed: 11)
                try scratch.write("upload", body)
                let response = try proxy.curl.get(
                    nginx.base + "/echo",
                    ["--data-binary", "@" + scratch.file("upload"), "-H", "Content-Type: application/octet-stream"],
                    directory: scratch)
                #expect(response.status == 200)
                #expect(sameBytes(response.body, body))
            }
        }

        @Test func chunkedUploadIsStoredIntactByTheOrigin() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let body = payload(2 * 1024 * 1024 + 17, seed: 13)
                try scratch.write("upload", body)
                let response = try proxy.curl.get(
                    nginx.base + "/dav/chunked.bin",
                    ["-T", scratch.file("upload"), "-H", "Transfer-Encoding: chunked"],
                    directory: scratch)
                #expect(response.status == 201 || response.status == 204)
                #expect(sameBytes(nginx.storedFile("dav/chunked.bin"), body))
            }
        }

        @Test func expectContinueIsForwardedAndTheBodyFollows() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let body = payload(64 * 1024, seed: 17)
                try scratch.write("upload", body)
                let response = try proxy.curl.get(
                    nginx.base + "/echo",
                    ["--data-binary", "@" + scratch.file("upload"), "-H", "Expect: 100-continue"],
                    directory: scratch)
                #expect(response.status == 200)
                #expect(response.headers.contains("100 Continue"))
                #expect(sameBytes(response.body, body))
            }
        }

        @Test func keepAliveReusesTheClientConnection() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                try nginx.writeFile("a", payload(100))
                let response = try proxy.curl.run(
                    [], urls: [nginx.base + "/a", nginx.base + "/a", nginx.base + "/a"], directory: scratch)
                #expect(response.status == 200)
                // curl reports connections opened for the last transfer: 0 means it was reused.
                #expect(response.numConnects == 0)
                let originLog = try String(contentsOfFile: nginx.directory.file("access.log"), encoding: .utf8)
                #expect(originLog.components(separatedBy: "GET /a").count - 1 == 3)
            }
        }

        @Test func hopByHopHeadersAreRemovedAndViaAndForwardedForAdded() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let response = try proxy.curl.get(
                    nginx.base + "/headers",
                    [
                        "-H", "Connection: keep-alive, X-Secret-Hop", "-H", "X-Secret-Hop: 1", "-H",
                        "Keep-Alive: timeout=5",
                        "-H", "Proxy-Authorization: Basic Zm9vOmJhcg==", "-H", "X-Forwarded-For: 203.0.113.9", "-H",
                        "X-Kept: yes",
                    ],
                    directory: scratch)
                let seen = String(decoding: response.body, as: UTF8.self).lowercased()
                #expect(response.status == 200)
                #expect(seen.hasPrefix("get /headers http/1.1"))
                #expect(!seen.contains("x-secret-hop"))
                #expect(!seen.contains("keep-alive: timeout"))
                #expect(!seen.contains("proxy-authorization"))
                #expect(seen.contains("x-kept: yes"))
                #expect(seen.contains("via: 1.1 portcullis"))
                #expect(seen.contains("x-forwarded-for: 203.0.113.9, 127.0.0.1"))
                #expect(seen.contains("host: 127.0.0.1:\(nginx.port)"))
            }
        }

        /// A field value in obs-text (a Latin-1 `é`, 0xE9, not UTF-8) reaches nginx byte for byte.
        @Test func fieldValuesInObsTextReachTheOriginUnchanged() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                // curl reads the header lines from a file as bytes (arguments would be UTF-8).
                try scratch.write("headers.txt", Data("X-Name: caf".utf8) + Data([0xE9]) + Data("\r\n".utf8))
                let response = try proxy.curl.get(
                    nginx.base + "/headers", ["-H", "@" + scratch.file("headers.txt")], directory: scratch)
                #expect(response.status == 200)
                let sent = Data("X-Name: caf".utf8) + Data([0xE9]) + Data("\r\n".utf8)
                #expect(response.body.range(of: sent) != nil, "\(Array(response.body))")
            }
        }

        @Test func forwardedForCanBeDeleted() async throws {
            try await withProxyAndNginx({ $0.forwardedFor = .delete }) { proxy, nginx, scratch in
                let response = try proxy.curl.get(
                    nginx.base + "/headers", ["-H", "X-Forwarded-For: 203.0.113.9"], directory: scratch)
                #expect(!String(decoding: response.body, as: UTF8.self).lowercased().contains("x-forwarded-for"))
            }
        }

        @Test func http10ClientGetsAnUnchunkedResponse() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                // /headers is answered chunked by nginx; an HTTP/1.0 client must get it unchunked.
                let response = try proxy.curl.get(nginx.base + "/headers", ["-0"], directory: scratch)
                #expect(response.status == 200)
                #expect(response.header("Transfer-Encoding") == nil)
                #expect(String(decoding: response.body, as: UTF8.self).lowercased().hasPrefix("get /headers"))
            }
        }

        @Test func ipv6ClientReachesIPv4OriginAndTheReverse() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                try nginx.writeFile("v", payload(500))
                let port6 = try #require(proxy.portIPv6)
                let viaIPv6 = try Curl(proxy: "http://[::1]:\(port6)").get(nginx.base + "/v", directory: scratch)
                #expect(viaIPv6.status == 200)
                #expect(sameBytes(viaIPv6.body, payload(500)))
                let toIPv6 = try proxy.curl.get(nginx.baseIPv6 + "/v", directory: scratch)
                #expect(toIPv6.status == 200)
                #expect(sameBytes(toIPv6.body, payload(500)))
                #expect(await eventually { proxy.accessLog().contains("::1 TCP_MISS/200") })
                #expect(await eventually { proxy.accessLog().contains("HIER_DIRECT/::1") })
            }
        }

        @Test func maxForwardsZeroIsAnsweredByTheProxy() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let options = try proxy.curl.get(
                    nginx.base + "/", ["-X", "OPTIONS", "-H", "Max-Forwards: 0"], directory: scratch)
                #expect(options.status == 200)
                #expect(options.header("Allow")?.contains("CONNECT") == true)
                let trace = try proxy.curl.get(
                    nginx.base + "/x", ["-X", "TRACE", "-H", "Max-Forwards: 0", "-H", "X-Probe: 1"], directory: scratch)
                #expect(trace.status == 200)
                #expect(String(decoding: trace.body, as: UTF8.self).contains("X-Probe: 1"))
                let originLog = try String(contentsOfFile: nginx.directory.file("access.log"), encoding: .utf8)
                #expect(!originLog.contains("OPTIONS") && !originLog.contains("TRACE"))
            }
        }

        @Test func accessLogUsesSquidNativeFormat() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                try nginx.writeFile("logged", payload(321))
                _ = try proxy.curl.get(nginx.base + "/logged", directory: scratch)
                #expect(await eventually { proxy.accessLog().contains("/logged") })
                let line = try #require(proxy.accessLog().split(separator: "\n").first { $0.contains("/logged") })
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // Squid's ten fields, then the policy's verdict and rule.
                #expect(fields.count == 11)
                #expect(fields[0].contains("."))
                #expect(fields[2] == "127.0.0.1")
                #expect(fields[3] == "TCP_MISS/200")
                #expect(fields[4] == "321")
                #expect(fields[5] == "GET")
                #expect(fields[6] == "\(nginx.base)/logged")
                #expect(fields[7] == "-")
                #expect(fields[8] == "HIER_DIRECT/127.0.0.1")
                #expect(fields[10] == "allow,group=Default,rule=default")
            }
        }
    }
}
