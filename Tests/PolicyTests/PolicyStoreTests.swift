import Foundation
import GRDB
import Testing

@testable import Policy

struct PolicyStoreTests {
    @Test func aFreshDatabaseHasTheStarterPolicyAndTheShippedPages() throws {
        let store = try freshStore()
        let lists = try store.lists()
        #expect(lists.map(\.name) == ["allow", "deny"])
        #expect(lists.map(\.kind) == [.allow, .deny])
        #expect(lists.allSatisfy { $0.total == 0 && $0.enabled })
        let groups = try store.groups()
        #expect(groups.map(\.name) == ["Default"])
        #expect(groups[0].isDefault)
        #expect(groups[0].defaultAction == .allow)
        #expect(groups[0].rules.map { "\($0.list)→\($0.action)" } == ["allow→allow", "deny→deny"])
        let pages = try store.pages().map(\.name)
        for name in ["block", "layout", "error", "dns-error", "origin-error", "connect-denied", "bad-request"] {
            #expect(pages.contains(name), "page \(name) seeded")
        }
    }

    @Test func seedingInsertsTheUsableTemplatesOnceAndReportsTheRest() throws {
        let directory = try TemporaryDirectory()
        try directory.write("block.html", "<p>blocked: {{url}}</p>")
        try directory.write("broken.html", "{{#section}}never closed")
        let store = try PolicyStore.inMemory()
        let first = try store.seedPages(from: directory.path)
        #expect(first.seeded == ["block"])
        #expect(first.refused.map(\.template) == ["broken"])
        #expect(try store.pages().first { $0.name == "block" }?.body == "<p>blocked: {{url}}</p>")
        // Seeded once: a second start keeps what the database has, and still reports the file.
        let second = try store.seedPages(from: directory.path)
        #expect(second.seeded.isEmpty)
        #expect(second.refused.map(\.template) == ["broken"])
        // A directory that cannot be read is reported, not an error of the store.
        #expect(
            try store.seedPages(from: directory.path + "/missing").refused.map(\.description) == [
                "page template '\(directory.path)/missing': cannot be read: No such file or directory"
            ])
    }

    @Test func entriesAreNormalisedDeduplicatedAndRemovable() throws {
        let store = try freshStore()
        let added = try store.addEntries(
            ["Example.COM.", "*.example.org", "host:WWW.Exact.net", "http://www3.example.net:8080/ads/", "regex:^x+$"],
            to: "deny", actor: "test")
        #expect(added == ListEditResult(changed: 5, unchanged: 0))
        #expect(try store.addEntries(["example.com"], to: "deny", actor: "test").unchanged == 1)
        #expect(
            try store.entries(of: "deny").map(\.description) == [
                "example.com", "example.org", "host:www.exact.net", "example.net/ads/", "regex:^x+$",
            ])
        let removed = try store.removeEntries(["example.com", "nothere.com"], from: "deny", actor: "test")
        #expect(removed == ListEditResult(changed: 1, unchanged: 1))
        #expect(try store.lists().first { $0.name == "deny" }?.counts == [.domain: 1, .host: 1, .url: 1, .regex: 1])
    }

    @Test func aURLEntryWithoutAPathIsListedAsOneAndRemovedAsListed() throws {
        let store = try freshStore()
        _ = try store.addEntries(["url:example.org", "example.org"], to: "deny", actor: "test")
        let listed = try store.entries(of: "deny").map(\.description)
        #expect(Set(listed) == ["url:example.org", "example.org"])
        #expect(try store.removeEntries(listed, from: "deny", actor: "test").changed == 2)
    }

    @Test func anInvalidEntryIsRefusedWithTheFieldNamedAndNothingIsAdded() throws {
        let store = try freshStore()
        for (text, field) in [
            ("bad domain", "domain"), ("host:a..b", "host"), ("regex:(unclosed", "regex"),
            ("url:exa mple.com/x", "url"),
        ] {
            do {
                _ = try store.addEntries(["good.example", text], to: "deny", actor: "test")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.inputError?.field == field, "\(text): \(error)")
            }
        }
        #expect(try store.lists().first { $0.name == "deny" }?.total == 0)
    }

    @Test func everyChangeIsAuditedAndBumpsTheGeneration() throws {
        let store = try freshStore()
        let before = try store.generation()
        _ = try store.addEntries(["example.com"], to: "deny", actor: "alice")
        try store.createList("games", category: "games", actor: "bob")
        #expect(try store.generation() == before + 2)
        let audit = try store.audit(limit: 2)
        #expect(audit.map(\.actor) == ["bob", "alice"])
        #expect(audit[1].action == "add entries")
        #expect(audit[1].detail.contains("example.com"))
    }

    @Test func unknownNamesAndInvalidValuesAreRefusedPrecisely() throws {
        let store = try freshStore()
        #expect(throws: PolicyStoreError.self) { try store.addEntries(["a.com"], to: "nolist", actor: "t") }
        do {
            try store.addGroup("Staff", members: ["10.0.0.0/33"], actor: "t")
            Issue.record("bad CIDR accepted")
        } catch {
            #expect(error.inputError?.field == "member")
        }
        do {
            try store.setPage("block", body: "{{{url}}}", actor: "t")
            Issue.record("unescaped template accepted")
        } catch {
            #expect(error.inputError?.field == "template")
        }
        #expect(throws: PolicyStoreError.self) { try store.setTimeZone("Mars/Olympus", actor: "t") }
        #expect(throws: PolicyStoreError.self) {
            try store.addRule(group: "Default", list: "deny", action: .deny, schedule: "never-made", actor: "t")
        }
        #expect(throws: PolicyStoreError.self) { try store.addGroup("Default", members: [], actor: "t") }
    }

    @Test func aFileDatabaseKeepsCommittedChangesAcrossReopening() throws {
        let scratch = try TemporaryDirectory()
        do {
            let store = try PolicyStore.open(dataDirectory: scratch.path)
            #expect(try store.seedPages(from: shippedPagesDirectory).refused.isEmpty)
            _ = try store.addEntries(["kept.example"], to: "deny", actor: "t")
        }
        let reopened = try PolicyStore.open(dataDirectory: scratch.path)
        #expect(try reopened.seedPages(from: shippedPagesDirectory).seeded.isEmpty, "pages are seeded once")
        #expect(try reopened.entries(of: "deny").map(\.value) == ["kept.example"])
        #expect(try reopened.groups().count == 1, "migrations and seeds run once")
        let mode = try DatabaseQueue(path: scratch.path + "/portcullis.db").read { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode")
        }
        #expect(mode == "wal")
    }

    @Test func aDatabaseThatIsNotSQLiteIsAClearError() throws {
        let scratch = try TemporaryDirectory()
        try Data("this is not a database, just text that is long enough to be read as a header".utf8)
            .write(to: URL(fileURLWithPath: scratch.path + "/portcullis.db"))
        do {
            _ = try PolicyStore.open(dataDirectory: scratch.path)
            Issue.record("a corrupt database was opened")
        } catch {
            #expect(error.description.contains("portcullis.db"))
        }
    }

    @Test func rulesAreInsertedAtTheirPosition() throws {
        let store = try freshStore()
        try store.createList("social", actor: "t")
        try store.addRule(group: "Default", list: "social", action: .deny, position: 1, actor: "t")
        #expect(try store.groups()[0].rules.map(\.list) == ["social", "allow", "deny"])
        let removed = try store.groups()[0].rules[0].id
        try store.removeRule(id: removed, actor: "t")
        #expect(try store.groups()[0].rules.map(\.list) == ["allow", "deny"])
        // A rule is known by its id: the error says so, and nothing else changes.
        #expect {
            try store.removeRule(id: removed, actor: "t")
        } throws: { error in
            (error as? PolicyStoreError)?.description == "no rule with the id \(removed)"
                && (error as? PolicyStoreError)?.isNotFound == true
        }
        #expect(try store.groups()[0].rules.map(\.list) == ["allow", "deny"])
    }
}
