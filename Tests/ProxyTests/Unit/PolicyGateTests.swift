import Foundation
import NIOHTTP1
import Testing

@testable import Policy
@testable import Proxy

/// How a decision becomes what the proxy does, without a socket.
struct PolicyGateTests {
    private func snapshot(_ configure: (PolicyStore) throws -> Void) throws -> PolicySnapshot {
        let store = try PolicyStore.inMemory(pagesDirectory: RunningProxy.pagesDirectory)
        try configure(store)
        return try SnapshotCompiler.compile(store)
    }

    private func forward(_ uri: String) throws -> RequestDisposition {
        RequestPlanner(configuration: ProxyConfiguration()).plan(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: uri), clientIP: "10.0.0.1")
    }

    private let client = IPAddress128(parsing: "10.0.0.1")

    @Test func anAllowedRequestIsForwardedAsPlannedAndLabelled() throws {
        let snapshot = try self.snapshot { _ in }
        let (disposition, outcome) = PolicyGate.apply(
            try self.forward("http://example.com/"), client: self.client, snapshot: snapshot, now: Date(), via: "1.1 p")
        guard case .forward(let plan) = disposition else {
            Issue.record("not forwarded: \(disposition)")
            return
        }
        #expect(plan.connectHost == "example.com")
        #expect(outcome?.label == "allow,group=Default,rule=default")
    }

    @Test func aDeniedRequestGetsTheGroupsBlockPage() throws {
        let snapshot = try self.snapshot { _ = try $0.addEntries(["example.com"], to: "deny", actor: "t") }
        let (disposition, outcome) = PolicyGate.apply(
            try self.forward("http://www.example.com/a"), client: self.client, snapshot: snapshot, now: Date(),
            via: "1.1 p")
        guard case .reject(let page, _, let url) = disposition else {
            Issue.record("not refused")
            return
        }
        #expect(page.status == .forbidden)
        #expect(page.template == "block")
        #expect(url == "http://www.example.com/a")
        #expect(outcome?.label == "deny,group=Default,rule=2,list=deny")
    }

    @Test func aDeniedConnectIsRefusedToo() throws {
        let snapshot = try self.snapshot { _ = try $0.addEntries(["example.com"], to: "deny", actor: "t") }
        let target = try RequestTarget(authorityForm: "example.com:443")
        let (disposition, _) = PolicyGate.apply(
            .tunnel(target), client: self.client, snapshot: snapshot, now: Date(), via: "1.1 p")
        guard case .reject(let page, _, let url) = disposition else {
            Issue.record("not refused")
            return
        }
        #expect(page.code == "policy_blocked")
        #expect(url == "example.com:443")
    }

    @Test func localAnswersAreNotDecided() throws {
        let snapshot = try self.snapshot { _ = try $0.addEntries(["example.com"], to: "deny", actor: "t") }
        let (_, outcome) = PolicyGate.apply(
            .reject(.badRequest, reason: "x", url: "http://example.com/"), client: self.client, snapshot: snapshot,
            now: Date(), via: "1.1 p")
        #expect(outcome == nil)
    }

    @Test func redirectSubstitutionsArePercentEncoded() {
        #expect(
            RedirectTarget.substitute(
                "http://portal/?u=%u&a=%a&t=%t&s=%s&p=100%%&x=%x", client: "::1", url: "http://a.b/c d?e=f&g",
                category: "adult", group: "Pupils 2")
                == "http://portal/?u=http%3A%2F%2Fa.b%2Fc%20d%3Fe%3Df%26g&a=%3A%3A1&t=adult&s=Pupils%202&p=100%&x=%x")
        #expect(
            RedirectTarget.substitute("http://plain/", client: "", url: "", category: "", group: "") == "http://plain/")
    }
}
