import Foundation
import GRDB
import Testing

@testable import Policy
@testable import Proxy

/// The policy snapshot deciding real requests from real curl, with nginx as the origin.
extension Integration {
    @Suite struct PolicyEnforcementTests {
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
                try proxy.store.createList("safe-search", actor: "test")
                _ = try proxy.store.addEntries(["host:search.test"], to: "safe-search", actor: "test")
                try proxy.store.addRule(
                    group: "Default", list: "safe-search", action: .intercept(host: "127.0.0.1", port: nginx.port),
                    position: 1, actor: "test")
                try await proxy.reloadPolicy()
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
                let stop = NIOLockedFlag()
                let origin = "http://127.0.0.1:\(nginx.port)/echo"
                // Keep-alive traffic to an allowed origin all along: none of it may fail.
                let traffic = Task.detached { () -> [Int] in
                    let scratch = try TemporaryDirectory()
                    defer { scratch.remove() }
                    var statuses: [Int] = []
                    while !stop.value {
                        let response = try curl.run(
                            [], urls: Array(repeating: origin, count: 20), directory: scratch)
                        statuses.append(response.status)
                        if response.exitCode != 0 { statuses.append(-Int(response.exitCode)) }
                    }
                    return statuses
                }
                #expect(try proxy.curl.get("http://news.test.invalid/", directory: scratch).status == 503)
                for round in 0..<5 {
                    _ = try proxy.store.addEntries(["round\(round).test.invalid"], to: "deny", actor: "test")
                }
                _ = try proxy.store.addEntries(["news.test.invalid"], to: "deny", actor: "test")
                let blocked = await eventually(seconds: 10) {
                    (try? proxy.curl.get("http://news.test.invalid/", directory: scratch).status) == 403
                }
                #expect(blocked, "the running proxy picked the change up")
                stop.set()
                let statuses = try await traffic.value
                #expect(!statuses.isEmpty)
                #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
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

/// A flag set once by one thread and read by another.
final class NIOLockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { self.lock.withLock { self.flag } }
    func set() { self.lock.withLock { self.flag = true } }
}
