import Foundation
import Testing

@testable import Policy

/// Importing into the store: lists made, rules added, refreshes, and the snapshot using them.
struct PolicyImportStoreTests {
    private func tree() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("bl/adult/domains", "# adult\nadult.example\nAdult.Example.\nbad domain\nbücher.example\n")
        try directory.write("bl/adult/urls", "www2.example.org/adult\nexample.org:8080/x\n")
        try directory.write("bl/adult/expressions", "(^|[-.?/=])porn([-.?/=]|$)\n(unclosed\n")
        try directory.write("bl/games/domains", "games.example\nxn--bcher-kva.example\n")
        return directory
    }

    @Test func aTreeBecomesListsWithDenyRulesForEveryone() throws {
        let directory = try self.tree()
        let store = try freshStore()
        let report = try store.importLists(
            from: try ImportSource(path: directory.path + "/bl", listName: "ut1"), denyForEveryone: true, actor: "t")
        #expect(
            report.lists.map(\.name).sorted() == [
                "ut1/adult/domains", "ut1/adult/expressions", "ut1/adult/urls", "ut1/games/domains",
            ])
        #expect(report.entries == 7)
        #expect(report.problemCount == 2)
        let adult = try #require(report.lists.first { $0.name == "ut1/adult/domains" })
        #expect(adult.problems.map(\.line) == [4])
        #expect(adult.duplicates == 1)
        #expect(report.rulesAdded.count == 4)
        let rules = try store.groups()[0].rules.map(\.list)
        #expect(rules.prefix(2) == ["allow", "deny"])
        #expect(Set(rules.dropFirst(2)) == Set(report.rulesAdded))

        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://www.adult.example/").category == "adult")
        #expect(try snapshot.check("http://example.org/adult/page").list == "ut1/adult/urls")
        #expect(try snapshot.check("http://example.org/?q=porn").entry == "regex:(^|[-.?/=])porn([-.?/=]|$)")
        #expect(try snapshot.check("http://games.example/").category == "games")
        #expect(try snapshot.check("http://wikipedia.example/").verdict == "allow")
        let audit = try store.audit(limit: 1)[0]
        #expect(audit.action == "import")
        #expect(audit.detail.contains("7 entries"))
    }

    @Test func idnNamesAndTheirPunycodeAreTheSameHost() throws {
        let directory = try self.tree()
        let store = try freshStore()
        _ = try store.importLists(
            from: try ImportSource(path: directory.path + "/bl", listName: "ut1"), denyForEveryone: true, actor: "t")
        let snapshot = try store.snapshot()
        for host in ["bücher.example", "BÜCHER.example.", "xn--bcher-kva.example", "www.bücher.example"] {
            #expect(try snapshot.check("http://\(host)/").verdict == "deny", "\(host)")
        }
        // The entry appears in two lists; the first rule that names one of them decides.
        #expect(try snapshot.check("http://bücher.example/").entry == "xn--bcher-kva.example")
    }

    @Test func reimportingRefreshesImportedEntriesAndKeepsHandAddedOnes() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("list.txt", "one.example\ntwo.example\n")
        let store = try freshStore()
        _ = try store.importLists(from: try ImportSource(path: file, listName: "ads"), actor: "t")
        _ = try store.addEntries(["mine.example"], to: "ads", actor: "t")
        try directory.write("list.txt", "two.example\nthree.example\n")
        _ = try store.importLists(from: try ImportSource(path: file, listName: "ads"), actor: "t")
        #expect(try store.entries(of: "ads").map(\.value) == ["mine.example", "three.example", "two.example"])
    }

    @Test func hostsFilesAndAdblockListsImportTheirDomains() throws {
        let directory = try TemporaryDirectory()
        let hosts = try directory.write("hosts", "127.0.0.1 localhost\n0.0.0.0 tracker.example ads.example\n")
        let adblock = try directory.write("easy.txt", "[Adblock Plus 2.0]\n||doubleclick.example^\n||x.example/path\n")
        let store = try freshStore()
        let first = try store.importLists(from: try ImportSource(path: hosts, listName: "hosts"), actor: "t")
        let second = try store.importLists(from: try ImportSource(path: adblock, listName: "easy"), actor: "t")
        #expect(first.entries == 2)
        #expect(second.entries == 1)
        #expect(second.lists[0].unsupported == 1)
        #expect(try store.entries(of: "easy").map(\.value) == ["doubleclick.example"])
    }
}
