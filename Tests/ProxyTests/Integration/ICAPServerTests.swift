import Foundation
import NIOCore
import Testing

@testable import Policy
@testable import Proxy

/// Portcullis as an ICAP server, driven by the real `c-icap-client` and by a real Squid that
/// uses it as its REQMOD service.
extension Integration {
    @Suite struct ICAPServerTests {
        /// A proxy that also serves ICAP on a free loopback port, with `blocked.test` denied.
        private func withICAPServer(
            idleTimeout: TimeAmount = .seconds(60),
            _ body: (RunningProxy, Int, Nginx, TemporaryDirectory) async throws -> Void
        ) async throws {
            try await withProxyAndNginx({
                $0.icapListen = [HostAndPort(host: "127.0.0.1", port: 0)]
                $0.idleTimeout = idleTimeout
            }) {
                proxy, nginx, scratch in
                _ = try proxy.store.addEntries(["blocked.test"], to: "deny", actor: "test")
                try await proxy.reloadPolicy()
                let port = try #require(proxy.server.boundICAPAddresses.first?.port)
                try await body(proxy, port, nginx, scratch)
            }
        }

        private func client(_ port: Int, _ arguments: [String]) throws -> Subprocess.Result {
            try Subprocess.run("c-icap-client", ["-i", "127.0.0.1", "-p", String(port)] + arguments, timeout: 20)
        }

        @Test func optionsAnswerWithMethodsPreviewAndISTag() async throws {
            try await self.withICAPServer { proxy, port, _, _ in
                let result = try self.client(port, ["-s", "reqmod", "-v"])
                #expect(result.status == 0, "\(result.stderr)")
                let output = result.output + result.stderr
                #expect(output.contains("ICAP/1.0 200 OK"))
                #expect(output.contains("Methods: REQMOD"))
                #expect(output.contains("ISTag: \"PC-\(try proxy.store.generation())\""))
                #expect(output.contains("Preview: 0"))
                // A policy change is a new service tag: caches keyed on it are invalidated.
                _ = try proxy.store.addEntries(["another.test"], to: "deny", actor: "test")
                try await proxy.reloadPolicy()
                let after = try self.client(port, ["-s", "reqmod", "-v"])
                #expect((after.output + after.stderr).contains("ISTag: \"PC-\(try proxy.store.generation())\""))
                #expect(
                    !(after.output + after.stderr).contains(
                        output.split(separator: "\n").first { $0.contains("ISTag") } ?? "none"))
            }
        }

        @Test func reqmodOfABlockedURLAnswersWithTheBlockPage() async throws {
            try await self.withICAPServer { _, port, _, scratch in
                for (index, extra) in [[], ["-nopreview"], ["-no204"], ["-w", "0"]].enumerated() {
                    // c-icap-client will not overwrite a file.
                    let page = scratch.file("page-\(index).html")
                    let result = try self.client(
                        port, ["-s", "reqmod", "-req", "http://www.blocked.test/x", "-v", "-o", page] + extra)
                    let output = result.output + result.stderr
                    #expect(output.contains("ICAP/1.0 200 OK"), "\(extra): \(output)")
                    #expect(output.contains("HTTP/1.1 403"), "\(extra)")
                    let html = (try? String(contentsOfFile: page, encoding: .utf8)) ?? ""
                    #expect(html.contains("blocked by the policy of your network"), "\(extra)")
                }
            }
        }

        @Test func reqmodOfAnAllowedURLIsUnchanged() async throws {
            try await self.withICAPServer { _, port, _, _ in
                let allowed = try self.client(port, ["-s", "reqmod", "-req", "http://allowed.test/", "-v"])
                #expect((allowed.output + allowed.stderr).contains("ICAP/1.0 204"), "\(allowed.output)")
                // Without 204 the request comes back as it was sent.
                let echoed = try self.client(port, ["-s", "reqmod", "-req", "http://allowed.test/", "-v", "-no204"])
                let output = echoed.output + echoed.stderr
                #expect(output.contains("ICAP/1.0 200 OK"), "\(output)")
                #expect(output.contains("allowed.test"))
            }
        }

        @Test func reqmodOfAnUnreadableURLAnswersWith400NotUnchanged() async throws {
            try await self.withICAPServer { _, port, _, scratch in
                let page = scratch.file("unreadable.html")
                let result = try self.client(port, ["-s", "reqmod", "-req", "http://[::1/x", "-v", "-o", page])
                let output = result.output + result.stderr
                #expect(output.contains("ICAP/1.0 200 OK"), "\(output)")
                #expect(output.contains("HTTP/1.1 400"), "\(output)")
                let html = (try? String(contentsOfFile: page, encoding: .utf8)) ?? ""
                #expect(html.contains("the request&#39;s URL cannot be read"), "\(html)")
            }
        }

        @Test func respmodIsUnchangedWithAPreviewAndEchoedIntactWithout() async throws {
            try await self.withICAPServer { _, port, _, scratch in
                let input = payload(300_000)
                try scratch.write("input.bin", input)
                let respmod = ["-s", "respmod", "-resp", "http://allowed.test/file", "-f", scratch.file("input.bin")]
                // With a preview (c-icap-client's default, and -w): 204 inside the preview.
                for extra in [["-no204"], ["-no204", "-w", "1024"]] {
                    let result = try self.client(port, respmod + ["-v"] + extra)
                    #expect((result.output + result.stderr).contains("ICAP/1.0 204"), "\(extra): \(result.output)")
                }
                // Without a preview and without 204, the whole body comes back, byte for byte.
                let output = scratch.file("output.bin")
                let echoed = try self.client(port, respmod + ["-nopreview", "-no204", "-o", output])
                #expect(echoed.status == 0, "\(echoed.stderr)")
                #expect(sameBytes(FileManager.default.contents(atPath: output), input))
            }
        }

        @Test func anUnknownServiceGets404AndGarbageGets400AndAClose() async throws {
            try await self.withICAPServer { _, port, _, _ in
                let unknown = try self.client(port, ["-s", "echo", "-v"])
                #expect((unknown.output + unknown.stderr).contains("404"), "\(unknown.output)")
                let socket = try RawSocket(port: port)
                try socket.send("GARBAGE icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(answer.hasPrefix("ICAP/1.0 501") || answer.hasPrefix("ICAP/1.0 400"), "\(answer)")
                let bad = try RawSocket(port: port)
                try bad.send(
                    "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: x\r\nEncapsulated: req-hdr=0, null-body=999\r\n\r\nGET / HTTP/1.1\r\n\r\n"
                )
                #expect(String(decoding: bad.receiveUntilClose(), as: UTF8.self).hasPrefix("ICAP/1.0 400"))
            }
        }

        @Test func anIdleOrStalledConnectionIsClosedAfterTheIdleTimeout() async throws {
            try await self.withICAPServer(idleTimeout: .seconds(1)) { _, port, _, _ in
                let idle = try RawSocket(port: port)
                let stalled = try RawSocket(port: port)
                try stalled.send("REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: x\r\n")
                #expect(await eventually { idle.isClosedByPeer() })
                #expect(await eventually { stalled.isClosedByPeer() })
            }
        }

        @Test func squidWithPortcullisAsItsReqmodServiceBlocksAndPasses() async throws {
            try await self.withICAPServer { _, port, nginx, scratch in
                let squid = try Squid(
                    reqmodService: "icap://127.0.0.1:\(port)/reqmod", respmodService: "icap://127.0.0.1:\(port)/respmod"
                )
                defer { squid.stop() }
                let file = payload(3 * 1024 * 1024 + 17)
                try nginx.writeFile("file.bin", file)
                let allowed = try squid.curl.get(nginx.base + "/file.bin", directory: scratch)
                #expect(allowed.status == 200, "\(squid.cacheLog)")
                #expect(sameBytes(allowed.body, file), "a few MiB through Squid with both services, intact")
                let blocked = try squid.curl.get("http://www.blocked.test/", directory: scratch)
                #expect(blocked.status == 403, "\(squid.cacheLog)")
                #expect(String(decoding: blocked.body, as: UTF8.self).contains("blocked by the policy of your network"))
            }
        }
    }
}
