import Foundation
import Testing

@testable import Policy

/// Every step of the precedence `PolicySnapshot.decide` documents.
struct SnapshotDecisionTests {
    @Test func aDomainEntryCoversTheDomainAndEverySubdomainButNotLookalikes() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://example.com/").verdict == "deny")
        #expect(try snapshot.check("http://a.b.example.com/x").verdict == "deny")
        #expect(try snapshot.check("http://a.b.example.com/x").entry == "example.com")
        #expect(try snapshot.check("http://notexample.com/").verdict == "allow")
        #expect(try snapshot.check("http://example.com.evil.net/").verdict == "allow")
        #expect(try snapshot.check("http://com/").verdict == "allow")
    }

    @Test func hostsAreMatchedCaseInsensitivelyAndWithoutTheirTrailingDot() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://WWW.Example.COM./").verdict == "deny")
        #expect(try snapshot.check("WWW.EXAMPLE.COM.:443").verdict == "deny")
    }

    @Test func aHostEntryCoversThatHostOnly() throws {
        let store = try freshStore()
        _ = try store.addEntries(["host:ads.example.com"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://ads.example.com/").entry == "host:ads.example.com")
        #expect(try snapshot.check("http://x.ads.example.com/").verdict == "allow")
        #expect(try snapshot.check("http://example.com/").verdict == "allow")
    }

    @Test func urlEntriesIgnoreWWWAndPortAndMatchAPathPrefixAtABoundary() throws {
        let store = try freshStore()
        _ = try store.addEntries(["www.example.com/games"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://example.com/games").verdict == "deny")
        #expect(try snapshot.check("http://www2.example.com:8080/games/chess?x=1").verdict == "deny")
        #expect(try snapshot.check("http://www2.example.com:8080/games/chess?x=1").entry == "example.com/games")
        #expect(try snapshot.check("http://example.com/games?level=2").verdict == "deny")
        #expect(try snapshot.check("http://example.com/gamesroom").verdict == "allow")
        #expect(try snapshot.check("http://example.com/").verdict == "allow")
        #expect(try snapshot.check("http://sub.example.com/games").verdict == "allow")
        #expect(try snapshot.check("example.com:443").verdict == "allow", "a CONNECT has no path to match")
    }

    @Test func regexEntriesMatchAnywhereInTheURLIgnoringCase() throws {
        let store = try freshStore()
        _ = try store.addEntries(["regex:(^|[-.?/=])casino([-.?/=]|$)"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://example.com/?q=CASINO").verdict == "deny")
        #expect(try snapshot.check("http://casino.example.com/").verdict == "deny")
        #expect(try snapshot.check("http://example.com/casinos").verdict == "allow")
    }

    @Test func theFirstMatchingRuleWinsSoTheAllowListBeatsTheDenyList() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        _ = try store.addEntries(["good.example.com"], to: "allow", actor: "t")
        let snapshot = try store.snapshot()
        let trace = try snapshot.check("http://www.good.example.com/")
        #expect(trace.verdict == "allow")
        #expect(trace.list == "allow")
        #expect(trace.rulePosition == 1)
        #expect(try snapshot.check("http://bad.example.com/").verdict == "deny")
    }

    @Test func groupsAreChosenByAddressOrUserInOrderWithDefaultLast() throws {
        let store = try freshStore()
        try store.createList("games", actor: "t")
        _ = try store.addEntries(["games.example"], to: "games", actor: "t")
        try store.addGroup("Pupils", members: ["10.1.0.0/16", "fd00:1::/32"], actor: "t")
        try store.addGroup("Teachers", members: ["user:alice", "10.1.2.3"], actor: "t")
        try store.addRule(group: "Pupils", list: "games", action: .deny, actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://games.example/", client: "10.1.9.9").group == "Pupils")
        #expect(try snapshot.check("http://games.example/", client: "10.1.9.9").verdict == "deny")
        #expect(try snapshot.check("http://games.example/", client: "fd00:1::7").verdict == "deny")
        #expect(try snapshot.check("http://games.example/", client: "10.2.0.1").group == "Default")
        #expect(try snapshot.check("http://games.example/", client: "10.2.0.1").verdict == "allow")
        // Pupils come first: 10.1.2.3 is in both, the earlier group wins.
        #expect(try snapshot.check("http://games.example/", client: "10.1.2.3").group == "Pupils")
        #expect(try snapshot.check("http://games.example/", client: "192.168.1.1", user: "alice").group == "Teachers")
    }

    @Test func anAllowListOnlyGroupDeniesEverythingElse() throws {
        let store = try freshStore()
        try store.createList("kiosk-sites", kind: .allow, actor: "t")
        _ = try store.addEntries(["library.example"], to: "kiosk-sites", actor: "t")
        try store.addGroup("Kiosk", members: ["10.9.0.0/16"], defaultAction: .deny, actor: "t")
        try store.addRule(group: "Kiosk", list: "kiosk-sites", action: .allow, actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://library.example/", client: "10.9.0.1").verdict == "allow")
        let other = try snapshot.check("http://news.example/", client: "10.9.0.1")
        #expect(other.verdict == "deny")
        #expect(other.rulePosition == nil)
    }

    @Test func aDisabledListMatchesNothing() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        try store.setListEnabled("deny", false, actor: "t")
        #expect(try store.snapshot().check("http://example.com/").verdict == "allow")
    }

    @Test func redirectAndInterceptRulesCarryTheirTargets() throws {
        let store = try freshStore()
        try store.createList("search", actor: "t")
        _ = try store.addEntries(["host:www.google.com"], to: "search", actor: "t")
        try store.addRule(
            group: "Default", list: "search", action: .intercept(host: "forcesafesearch.google.com", port: nil),
            position: 1, actor: "t")
        try store.createList("moved", actor: "t")
        _ = try store.addEntries(["old.example"], to: "moved", actor: "t")
        try store.addRule(
            group: "Default", list: "moved", action: try RuleAction(parsing: "redirect=http://blocked.example/?u=%u"),
            actor: "t")
        let snapshot = try store.snapshot()
        #expect(
            snapshot.decide(try facts("www.google.com:443"), at: Date()).action
                == .intercept(host: "forcesafesearch.google.com", port: nil))
        #expect(
            snapshot.decide(try facts("http://old.example/a"), at: Date()).action
                == .redirect("http://blocked.example/?u=%u"))
    }

    @Test func rulesAndGroupsAreExplainedInTheTrace() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        let trace = try store.snapshot().check("http://x.example.com/")
        #expect(trace.description == "deny group=Default rule=2 list=deny entry=example.com")
        #expect(trace.page == "block")
    }

    @Test func theLogLabelNamesVerdictGroupRuleAndList() throws {
        let store = try freshStore()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(
            snapshot.logLabel(snapshot.decide(try facts("http://example.com/"), at: Date()))
                == "deny,group=Default,rule=2,list=deny")
        #expect(
            snapshot.logLabel(snapshot.decide(try facts("http://other.com/"), at: Date()))
                == "allow,group=Default,rule=default")
    }
}
