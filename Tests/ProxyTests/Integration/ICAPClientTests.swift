import Foundation
import ICAP
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Proxy

/// Portcullis as an ICAP client: remote REQMOD services asked before forwarding. The real
/// c-icap (srv_echo) for what it shows; a `ScriptedOrigin` as a fake service only for what it
/// cannot show: request satisfaction, a black hole, a close without an answer, garbage.
extension Integration {
    @Suite struct ICAPClientTests {
        private func withServices(
            _ services: [String], threads: Int = 2, readTimeout: TimeAmount = .seconds(5), connectPorts: Set<Int> = [],
            label: String = #function, _ body: (RunningProxy, Nginx, TemporaryDirectory) async throws -> Void
        ) async throws {
            let parsed = try services.map { try ICAPServiceConfiguration(parsing: $0) }
            try await withProxyAndNginx(
                {
                    $0.icapServices = parsed
                    $0.threads = threads
                    $0.icapReadTimeout = readTimeout
                    if !connectPorts.isEmpty { $0.connectPorts = connectPorts }
                }, label: label, body)
        }

        @Test func getHeadAndPostPassThroughCICAPEcho() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            try await self.withServices(["reqmod \(cicap.echoURL) bypass=off name=echo"]) { proxy, nginx, scratch in
                try nginx.writeFile("hello.txt", Data("hello through icap\n".utf8))
                let get = try proxy.curl.get(nginx.base + "/hello.txt", directory: scratch)
                #expect(get.status == 200)
                #expect(String(decoding: get.body, as: UTF8.self) == "hello through icap\n")
                let head = try proxy.curl.get(nginx.base + "/hello.txt", ["-I"], directory: scratch)
                #expect(head.status == 200)
                // Without Allow: 204 honoured, echo would send the request back; either way it goes on.
                let post = try proxy.curl.get(nginx.base + "/echo", ["-d", "name=portcullis"], directory: scratch)
                #expect(post.status == 200)
                #expect(String(decoding: post.body, as: UTF8.self) == "name=portcullis")
                // Over echo's preview (1024 bytes from its OPTIONS): preview, then the rest.
                let large = payload(5000, seed: 7).base64EncodedData()
                try scratch.write("large.txt", large)
                let upload = try proxy.curl.get(
                    nginx.base + "/echo", ["--data-binary", "@" + scratch.file("large.txt")], directory: scratch)
                #expect(upload.status == 200)
                #expect(sameBytes(upload.body, large))
                // Chunked: streamed like the others.
                let chunked = try proxy.curl.get(
                    nginx.base + "/echo", ["-H", "Transfer-Encoding: chunked", "-d", "chunked=yes"], directory: scratch)
                #expect(chunked.status == 200)
                #expect(String(decoding: chunked.body, as: UTF8.self) == "chunked=yes")
                #expect(await eventually { proxy.accessLog().contains("icap=echo:204") })
                // The service saw every request, the POSTs with their bodies.
                #expect(await eventually { cicap.accessLog.components(separatedBy: "REQMOD").count - 1 >= 5 })
            }
        }

        @Test(arguments: [nil, 0] as [Int?])
        func uploadsOfAFewMiBStreamThroughCICAPEchoIntact(preview: Int?) async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            // echo answers previews in turn with 204 and with 100 Continue (then echoes the body
            // back as it reads it); with an empty preview always the latter. Either way the
            // origin gets the body byte for byte, never gathered whole on the way.
            let service = "reqmod \(cicap.echoURL) bypass=off name=echo" + (preview.map { " preview=\($0)" } ?? "")
            try await self.withServices([service], threads: 1) { proxy, nginx, scratch in
                let huge = payload(3 << 20, seed: 9)
                try scratch.write("huge.bin", huge)
                for framing in [["-H", "Transfer-Encoding: chunked"], [], [], []] {
                    let big = try proxy.curl.get(
                        nginx.base + "/echo", framing + ["--data-binary", "@" + scratch.file("huge.bin")],
                        directory: scratch)
                    #expect(big.status == 200, "\(framing)")
                    #expect(sameBytes(big.body, huge), "\(framing)")
                }
                #expect(await eventually { proxy.accessLog().contains("icap=echo:200-req") })
                if preview == nil { #expect(await eventually { proxy.accessLog().contains("icap=echo:204") }) }
            }
        }

        @Test func optionsAreFetchedAtStartWithTheISTagAndPreview() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let echoURL = cicap.echoURL
            let client = try await loop.submit {
                NIOLoopBound(
                    ICAPServiceClient(
                        configuration: try ICAPServiceConfiguration(parsing: "reqmod \(echoURL)"), loop: loop,
                        loopCount: 2, connectTimeout: .seconds(2), readTimeout: .seconds(2),
                        logger: Logger(label: "test")), eventLoop: loop)
            }.get()
            try await loop.submit { client.value.fetchOptions() }.get()
            var seen: (String?, Int?, Int?) = (nil, nil, nil)
            for _ in 0..<100 {
                seen = try await loop.submit {
                    (client.value.istag, client.value.previewSize, client.value.options?.optionsTTL)
                }.get()
                if seen.0 != nil { break }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            #expect(seen.0 == "\"CI0001-XXXXXXXXX\"")
            #expect(seen.1 == 1024)
            #expect(seen.2 == 3600)
            try await loop.submit { client.value.close() }.get()
            try await group.shutdownGracefully()
        }

        @Test func connectIsAskedAboutThenTunnelled() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            let nginx = try Nginx()
            defer { nginx.stop() }
            try await self.withServices(
                ["reqmod \(cicap.echoURL) bypass=off name=echo"], connectPorts: [nginx.port]
            ) { proxy, _, scratch in
                try nginx.writeFile("t", Data("tunnelled".utf8))
                let response = try proxy.curl.get(nginx.base + "/t", ["-p"], directory: scratch)
                #expect(response.status == 200)
                #expect(response.headers.contains("200 Connection established"))
                #expect(String(decoding: response.body, as: UTF8.self) == "tunnelled")
                #expect(await eventually { cicap.accessLog.contains("REQMOD") })
                #expect(
                    await eventually {
                        proxy.accessLog().split(separator: "\n").contains {
                            $0.contains("TCP_TUNNEL/200") && $0.contains("icap=echo:204")
                        }
                    })
            }
        }

        @Test func aModifiedRequestBodyGoesToTheOriginWithItsNewLength() async throws {
            let nginx = try Nginx()
            defer { nginx.stop() }
            let http =
                "POST http://127.0.0.1:\(nginx.port)/echo HTTP/1.1\r\nHost: 127.0.0.1:\(nginx.port)\r\n"
                + "Content-Length: 15\r\n\r\n"
            let answer =
                "ICAP/1.0 200 OK\r\nISTag: \"fake\"\r\nEncapsulated: req-hdr=0, req-body=\(http.utf8.count)\r\n\r\n"
                + http + "b\r\nchanged=yes\r\n0\r\n\r\n"
            let service = try ScriptedOrigin(.raw(answer))
            defer { service.stop() }
            try await self.withServices(["reqmod icap://127.0.0.1:\(service.port)/modify bypass=off name=fake"]) {
                proxy, other, scratch in
                let response = try proxy.curl.get(other.base + "/echo", ["-d", "name=portcullis"], directory: scratch)
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "changed=yes")
                #expect(await eventually { proxy.accessLog().contains("icap=fake:200-req") })
            }
        }

        @Test func requestSatisfactionIsServedToTheClient() async throws {
            let page = "<html>blocked by the ICAP service</html>"
            let http = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: \(page.utf8.count)\r\n\r\n"
            let answer =
                "ICAP/1.0 200 OK\r\nISTag: \"fake\"\r\nEncapsulated: res-hdr=0, res-body=\(http.utf8.count)\r\n\r\n"
                + http + String(page.utf8.count, radix: 16) + "\r\n" + page + "\r\n0\r\n\r\n"
            let service = try ScriptedOrigin(.raw(answer))
            defer { service.stop() }
            try await self.withServices(["reqmod icap://127.0.0.1:\(service.port)/block bypass=on name=fake"]) {
                proxy, nginx, scratch in
                let response = try proxy.curl.get(nginx.base + "/anything", directory: scratch)
                #expect(response.status == 403)
                #expect(String(decoding: response.body, as: UTF8.self) == page)
                #expect(await eventually { proxy.accessLog().contains("icap=fake:200-res") })
            }
        }

        @Test func blackHoledServiceCostsARequestItsDeadlineThenBypassOr503() async throws {
            let service = try ScriptedOrigin(.blackHole)
            defer { service.stop() }
            let url = "icap://127.0.0.1:\(service.port)/hole"
            try await self.withServices(["reqmod \(url) bypass=off name=hole"], readTimeout: .seconds(1)) {
                proxy, nginx, scratch in
                let start = Date()
                let response = try proxy.curl.get(nginx.base + "/", directory: scratch)
                #expect(response.status == 503)
                #expect(response.header("X-Portcullis-Error") == "icap_service_failed")
                #expect(Date().timeIntervalSince(start) < 5)
                #expect(await eventually { proxy.accessLog().contains("icap=hole:timeout") })
            }
            try await self.withServices(["reqmod \(url) bypass=on name=hole"], readTimeout: .seconds(1)) {
                proxy, nginx, scratch in
                try nginx.writeFile("ok.txt", Data("ok".utf8))
                let response = try proxy.curl.get(nginx.base + "/ok.txt", directory: scratch)
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "ok")
            }
        }

        @Test(arguments: [ScriptedOrigin.Behaviour.closeWithoutAnswer, .raw("garbage\r\n\r\n")])
        func closedOrMalformedAnswersBypassOr503(behaviour: ScriptedOrigin.Behaviour) async throws {
            let service = try ScriptedOrigin(behaviour)
            defer { service.stop() }
            let url = "icap://127.0.0.1:\(service.port)/broken"
            try await self.withServices(["reqmod \(url) bypass=off"]) { proxy, nginx, scratch in
                let response = try proxy.curl.get(nginx.base + "/", directory: scratch)
                #expect(response.status == 503)
                #expect(response.header("X-Portcullis-Error") == "icap_service_failed")
            }
            try await self.withServices(["reqmod \(url) bypass=on"]) { proxy, nginx, scratch in
                try nginx.writeFile("ok.txt", Data("ok".utf8))
                let response = try proxy.curl.get(nginx.base + "/ok.txt", directory: scratch)
                #expect(response.status == 200)
            }
        }

        @Test func aPortcullisICAPServerPassesAllowedUploadsAndBlocksDeniedOnes() async throws {
            // The filtering service: another Portcullis serving ICAP (empty preview), denying `localhost`.
            try await withFilteringPortcullis("reqmod", denied: ["localhost"]) { proxy, nginx, scratch in
                let huge = payload(3 << 20, seed: 13)
                try scratch.write("huge.bin", huge)
                let upload = ["--data-binary", "@" + scratch.file("huge.bin")]
                let allowed = try proxy.curl.get(nginx.base + "/echo", upload, directory: scratch)
                #expect(allowed.status == 200)
                #expect(sameBytes(allowed.body, huge))
                let denied = try proxy.curl.get("http://localhost:\(nginx.port)/echo", upload, directory: scratch)
                #expect(denied.status == 403)
                #expect(String(decoding: denied.body, as: UTF8.self).contains("localhost"))
                #expect(await eventually { proxy.accessLog().contains("icap=pc:204") })
                #expect(await eventually { proxy.accessLog().contains("icap=pc:200-res") })
            }
        }

        @Test func aServiceKilledMidUploadEndsThatRequestAndLosesNoLaterOne() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            try await self.withServices(["reqmod \(cicap.echoURL) bypass=on preview=0 name=echo"]) {
                proxy, nginx, scratch in
                let huge = payload(32 << 20, seed: 17)
                try scratch.write("huge.bin", huge)
                let url = nginx.base + "/echo"
                let curl = proxy.curl
                let arguments = ["--data-binary", "@" + scratch.file("huge.bin")]
                // A slow sender: the upload is mid-stream through echo when echo dies.
                async let slow = onThread { try curl.get(url, arguments + ["--limit-rate", "2M"], directory: scratch) }
                try await Task.sleep(nanoseconds: 1_500_000_000)
                cicap.stop()
                let cut = try await slow
                // That request cannot complete: an error page or a close, never a hang or a
                // truncated body passed off as whole.
                #expect(cut.status != 200 || cut.exitCode != 0)
                // With the service gone (bypass=on), the next upload goes on unmodified.
                let next = try proxy.curl.get(url, arguments, directory: scratch)
                #expect(next.status == 200)
                #expect(sameBytes(next.body, huge))
            }
        }

        @Test func anExpectationOfContinueIsAnsweredByTheProxyWhileTheServicesWaitForTheBody() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            try await self.withServices(["reqmod \(cicap.echoURL) bypass=off name=echo"]) { proxy, nginx, _ in
                let port = proxy.port
                let base = nginx.base
                let body = String(repeating: "0123456789", count: 500)
                let (first, rest) = try await onThread {
                    let socket = try RawSocket(port: port, receiveTimeout: 10)
                    try socket.send(
                        "POST \(base)/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
                            + "Expect: 100-continue\r\nConnection: close\r\n\r\n")
                    // The body goes only once the 100 came, as a careful client does.
                    let first = String(decoding: socket.receive(until: "\r\n\r\n"), as: UTF8.self)
                    try socket.send(body)
                    return (first, String(decoding: socket.receiveUntilClose(), as: UTF8.self))
                }
                #expect(first == "HTTP/1.1 100 Continue\r\n\r\n")
                // One 100 only: the origin's, if it sends one, is not passed on as well.
                #expect(!rest.contains("100 Continue"))
                #expect(rest.hasPrefix("HTTP/1.1 200"), "\(rest.prefix(200))")
                // The body, de-chunked: every second line after the head is chunk data.
                let chunked = rest.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
                let lines = chunked.components(separatedBy: "\r\n")
                let data = stride(from: 1, to: lines.count, by: 2).map { lines[$0] }.joined()
                #expect(data == body)
            }
        }

        @Test func aBodyThatStallsWhileTheServiceWaitsForItsPreviewGets408() async throws {
            let cicap = try CICAP()
            defer { cicap.stop() }
            let parsed = try ICAPServiceConfiguration(parsing: "reqmod \(cicap.echoURL) bypass=on preview=1024")
            try await withProxyAndNginx({
                $0.icapServices = [parsed]
                $0.headerTimeout = .seconds(1)
            }) { proxy, nginx, _ in
                let port = proxy.port
                let base = nginx.base
                let answer = try await onThread {
                    let socket = try RawSocket(port: port, receiveTimeout: 10)
                    try socket.send(
                        "POST \(base)/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly some")
                    return String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                }
                #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(200))")
            }
        }

        @Test func breakerSuspendsAFailingServiceAfterRepeatedFailures() async throws {
            let service = try ScriptedOrigin(.closeWithoutAnswer)
            defer { service.stop() }
            try await self.withServices(
                ["reqmod icap://127.0.0.1:\(service.port)/broken bypass=on name=flaky"], threads: 1
            ) { proxy, nginx, scratch in
                try nginx.writeFile("ok.txt", Data("ok".utf8))
                for _ in 0..<4 {
                    let response = try proxy.curl.get(nginx.base + "/ok.txt", directory: scratch)
                    #expect(response.status == 200)
                }
                #expect(await eventually { proxy.accessLog().contains("icap=flaky:suspended") })
            }
        }
    }
}
