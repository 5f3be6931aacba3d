import Foundation
import GRDB
import Testing

@testable import Policy
@testable import Proxy

/// The policy snapshot deciding real requests from real curl, with nginx as the origin.
extension Integration {
    @Suite struct PolicyEnforcementTests {
        /// A rule sending the host `search.test` to the nginx origin instead.
        private static func interceptSearch(on proxy: RunningProxy, to port: Int) async throws {
            try proxy.store.createList("safe-search", actor: "test")
            _ = try proxy.store.addEntries(["host:search.test"], to: "safe-search", actor: "test")
            try proxy.store.addRule(
                group: "Default", list: "safe-search", action: .intercept(host: "127.0.0.1", port: port), position: 1,
                actor: "test")
            try await proxy.reloadPolicy()
        }

        @Test func aDeniedDomainAndItsSubdomainsGet403WithTheBlockPage() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                _ = try proxy.store.addEntries(["blocked.test"], to: "deny", actor: "test")
                try await proxy.reloadPolicy()
                for url in ["http://blocked.test/", "http://www.Blocked.TEST./x?<q>"] {
                    let response = try proxy.curl.get(url, directory: scratch)
                    #expect(response.status == 403, "\(url)")
                    #expect(response.header("X-Portcullis-Error") == "policy_blocked")
                    let page = String(decoding: response.body, as: UTF8.self)
                    #expect(page.contains("blocked by the policy of your network"))
                    #expect(page.contains("<dd>Default</dd>"), "the group is shown")
                    #expect(page.contains("<dd>deny</dd>"), "the list is shown")
                    #expect(!page.contains("<q>"), "the URL is escaped")
                }
                let allowed = try proxy.curl.get("http://127.0.0.1:\(nginx.port)/echo", directory: scratch)
                #expect(allowed.status == 200)
                await proxy.shutdownKeepingFiles()
                let log = try String(contentsOfFile: proxy.accessLogPath, encoding: .utf8)
                #expect(log.contains("TCP_DENIED/403"))
                #expect(log.contains("deny,group=Default,rule=2,list=deny"))
                #expect(log.contains("allow,group=Default,rule=default"))
            }
        }

        @Test func aDeniedConnectGets403WithThePageBody() async throws {
            try await withProxyAndNginx { proxy, _, _ in
                _ = try proxy.store.addEntries(["secure.blocked.test"], to: "deny", actor: "test")
                try await proxy.reloadPolicy()
                let socket = try RawSocket(port: proxy.port)
                try socket.send("CONNECT secure.blocked.test:443 HTTP/1.1\r\nHost: secure.blocked.test:443\r\n\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 403 "))
                #expect(answer.contains("secure.blocked.test"))
                #expect(answer.contains("</html>"))
            }
        }

        @Test func aRedirectRuleAnswers302WithSquidGuardSubstitutions() async throws {
            try await withProxyAndNginx { proxy, _, scratch in
                try proxy.store.createList("moved", category: "games", actor: "test")
                _ = try proxy.store.addEntries(["games.test"], to: "moved", actor: "test")
                try proxy.store.addRule(
                    group: "Default", list: "moved",
                    action: try RuleAction(parsing: "redirect=http://portal.test/blocked?url=%u&cat=%t&ip=%a"),
                    actor: "test")
                try await proxy.reloadPolicy()
                let response = try proxy.curl.get("http://games.test/play?a=1", directory: scratch)
                #expect(response.status == 302)
                #expect(
                    response.header("Location")
                        == "http://portal.test/blocked?url=http%3A%2F%2Fgames.test%2Fplay%3Fa%3D1&cat=games&ip=127.0.0.1"
                )
            }
        }

        @Test func anInterceptRuleSendsTheUnchangedRequestToAnotherHost() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                try await Self.interceptSearch(on: proxy, to: nginx.port)
                let response = try proxy.curl.get("http://search.test/headers", directory: scratch)
                #expect(response.status == 200)
                // nginx echoes the request headers: the Host is still the one the client asked for.
                #expect(String(decoding: response.body, as: UTF8.self).lowercased().contains("host: search.test"))
            }
        }

        @Test func aChangeTakesEffectWithoutRestartWhileTrafficFlows() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let server = proxy.server
                let curl = proxy.curl
                let reloader = PolicyReloader(
                    store: proxy.store, interval: .milliseconds(100), logger: .init(label: "test.reloader")
                ) { snapshot in await server.publish(snapshot) }
                let generation = try proxy.store.generation()
                let watcher = Task { await reloader.run(from: generation) }
                defer { watcher.cancel() }
                let progress = TrafficProgress()
                let origin = "http://127.0.0.1:\(nginx.port)/echo"
                // Keep-alive traffic to an allowed origin all along: none of it may fail.
                let traffic = Task.detached { () -> [Int] in
                    let scratch = try TemporaryDirectory()
                    defer { scratch.remove() }
                    var statuses: [Int] = []
                    while !progress.stopped {
                        let response = try curl.run(
                            [], urls: Array(repeating: origin, count: 20), directory: scratch)
                        statuses.append(response.status)
                        if response.exitCode != 0 { statuses.append(-Int(response.exitCode)) }
                        progress.batchDone()
                    }
                    return statuses
                }
                #expect(try proxy.curl.get("http://news.test.invalid/", directory: scratch).status == 503)
                #expect(await eventually { progress.batches >= 2 }, "traffic flows before the change")
                for round in 0..<5 {
                    _ = try proxy.store.addEntries(["round\(round).test.invalid"], to: "deny", actor: "test")
                }
                _ = try proxy.store.addEntries(["news.test.invalid"], to: "deny", actor: "test")
                let blocked = await eventually(seconds: 10) {
                    (try? proxy.curl.get("http://news.test.invalid/", directory: scratch).status) == 403
                }
                #expect(blocked, "the running proxy picked the change up")
                let seen = progress.batches
                #expect(await eventually { progress.batches >= seen + 2 }, "and after it")
                progress.stop()
                let statuses = try await traffic.value
                #expect(!statuses.isEmpty)
                #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
            }
        }

        @Test func aPolicyThatFailsToCompileLeavesThePreviousOneServing() async throws {
            try await withProxyAndNginx { proxy, nginx, scratch in
                let server = proxy.server
                let reloader = PolicyReloader(
                    store: proxy.store, interval: .milliseconds(50), logger: .init(label: "test.reloader")
                ) { snapshot in await server.publish(snapshot) }
                _ = try proxy.store.addEntries(["kept.test.invalid"], to: "deny", actor: "test")
                try await proxy.reloadPolicy()
                let generation = try proxy.store.generation()
                let watcher = Task { await reloader.run(from: generation) }
                defer { watcher.cancel() }
                // A rule no compile can read (a redirect without its URL), written behind the
                // store's back, and a new generation that announces it.
                try await proxy.store.writer.write { db in
                    try db.execute(
                        sql: "INSERT INTO rules (group_id, position, list_id, action) VALUES (1, 1, 1, 'redirect')")
                    try db.execute(sql: "UPDATE settings SET value = value + 1 WHERE key = 'generation'")
                    try db.execute(sql: "DELETE FROM entries WHERE value = 'kept.test.invalid'")
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(
                    try proxy.curl.get("http://kept.test.invalid/", directory: scratch).status == 403,
                    "the previous snapshot still decides")
                #expect(try proxy.curl.get("http://127.0.0.1:\(nginx.port)/echo", directory: scratch).status == 200)
                // Repaired, the next change is picked up.
                try await proxy.store.writer.write { db in
                    try db.execute(sql: "DELETE FROM rules WHERE action = 'redirect'")
                }
                _ = try proxy.store.addEntries(["other.test.invalid"], to: "deny", actor: "test")
                #expect(
                    await eventually {
                        (try? proxy.curl.get("http://kept.test.invalid/", directory: scratch).status) == 503
                    })
            }
        }

        @Test func anInterceptedConnectTunnelsToTheOtherHost() async throws {
            try await withProxyAndNginx { proxy, nginx, _ in
                try await Self.interceptSearch(on: proxy, to: nginx.port)
                let socket = try RawSocket(port: proxy.port)
                try socket.send("CONNECT search.test:443 HTTP/1.1\r\nHost: search.test:443\r\n\r\n")
                let established = String(decoding: socket.receive(until: "\r\n\r\n"), as: UTF8.self)
                #expect(established.hasPrefix("HTTP/1.1 200 "))
                // The tunnel reaches nginx, not search.test:443.
                try socket.send("GET /echo HTTP/1.1\r\nHost: search.test\r\nConnection: close\r\n\r\n")
                let answer = String(decoding: socket.receiveUntilClose(), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 200 "))
            }
        }

        @Test func aTemplateThatCannotBeUsedFallsBackToTheBuiltInPageStill403() async throws {
            try await withProxyAndNginx { proxy, _, scratch in
                _ = try proxy.store.addEntries(["blocked.test"], to: "deny", actor: "test")
                // Written behind the store's back (as a hand edit with sqlite3 would be).
                try await proxy.store.writer.write { db in
                    try db.execute(sql: "UPDATE pages SET body = '{{#never closed' WHERE name IN ('block', 'error')")
                }
                try await proxy.reloadPolicy()
                let response = try proxy.curl.get("http://blocked.test/", directory: scratch)
                #expect(response.status == 403)
                #expect(String(decoding: response.body, as: UTF8.self).contains("403 Blocked"))
            }
        }
    }
}

/// Background traffic's progress, shared with the test: batches done, and when to stop.
final class TrafficProgress: @unchecked Sendable {
    // Every access holds the lock.
    private let lock = NSLock()
    private var done = 0
    private var stopping = false
    var batches: Int { self.lock.withLock { self.done } }
    var stopped: Bool { self.lock.withLock { self.stopping } }
    func batchDone() { self.lock.withLock { self.done += 1 } }
    func stop() { self.lock.withLock { self.stopping = true } }
}
