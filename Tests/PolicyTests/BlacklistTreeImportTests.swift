import Foundation
import Testing

@testable import Policy

/// A tiny UT1 tree: `ut1/blacklists/<category>/{domains,urls,expressions}`.
private func makeTree(in directory: TemporaryDirectory) throws {
    try directory.write(
        "ut1/blacklists/adult/domains",
        """
        # adult: domains

        Example.COM
        example.com.
        *.sub.example.org
        .dotted.example.net
        bad domain with spaces
        Bücher.de
        xn--bcher-kva.de
        foo.example.com   # trailing comment
          spaced.example.com\t
        10.1.2.3

        """)
    try directory.write(
        "ut1/blacklists/adult/urls",
        """
        www2.example.com:8080/Path/To/Page.html
        http://WWW.Example.org/a?b=C
        https://shop.example.net/x
        example.com/ok
        ftp://files.example.com/x
        bad host.com/x
        www.com/x
        example.com/Path/To/Page.html
        """)
    try directory.write(
        "ut1/blacklists/adult/expressions",
        """
        (^|[-.?/=])porn([-.?/=]|$)
        (unclosed

        """)
    try directory.write("ut1/blacklists/gambling/domains", "casino.example\n")
    try directory.write("ut1/blacklists/gambling/usage", "black\n")
    try directory.write("ut1/blacklists/README", "not a category\n")
    try directory.write("ut1/blacklists/empty/usage", "black\n")
    try FileManager.default.createSymbolicLink(
        atPath: directory.path + "/ut1/blacklists/jeux", withDestinationPath: "gambling")
}

private let adultDomains = [
    "example.com", "sub.example.org", "dotted.example.net", "xn--bcher-kva.de", "foo.example.com",
    "spaced.example.com", "10.1.2.3",
]
private let adultURLs = [
    "example.com/Path/To/Page.html", "example.org/a?b=C", "shop.example.net/x", "example.com/ok", "www.com/x",
]
private let allowed = "which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"

struct BlacklistTreeImportTests {
    @Test func treeBecomesOneListPerFileNamedAfterItsCategory() throws {
        let directory = try TemporaryDirectory()
        try makeTree(in: directory)
        let source = try ImportSource(path: directory.path + "/ut1", listName: "ut1", category: "ignored")
        #expect(
            source.files.map(\.listName) == [
                "ut1/adult/domains", "ut1/adult/urls", "ut1/adult/expressions", "ut1/gambling/domains",
            ])
        #expect(source.files.map(\.category) == ["adult", "adult", "adult", "gambling"])
        #expect(source.files.map(\.kind) == [.domain, .url, .regex, .domain])
        #expect(source.files[0].source == directory.path + "/ut1/blacklists/adult/domains")
        #expect(source.aliases == [CategoryAlias(name: "jeux", target: "gambling")])
        try self.expectAdultLists(source, shownAs: directory.path + "/ut1/blacklists")
    }

    @Test func archiveIsExtractedImportedAndRemoved() throws {
        let directory = try TemporaryDirectory()
        try makeTree(in: directory)
        let archive = directory.path + "/blacklists.tar.gz"
        #expect(try directory.tar(["-czf", archive, "-C", directory.path + "/ut1", "blacklists"]) == 0)

        var extracted = ""
        do {
            let source = try ImportSource(path: archive, listName: "ut1", category: nil)
            #expect(
                source.files.map(\.listName) == [
                    "ut1/adult/domains", "ut1/adult/urls", "ut1/adult/expressions", "ut1/gambling/domains",
                ])
            #expect(source.files[0].source == archive + "!/blacklists/adult/domains")
            #expect(source.aliases == [CategoryAlias(name: "jeux", target: "gambling")])
            try self.expectAdultLists(source, shownAs: archive + "!/blacklists")
            extracted = source.files[0].path
            #expect(FileManager.default.fileExists(atPath: extracted))
        }
        #expect(!extracted.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: extracted))

        let closed = try ImportSource(path: archive, listName: "ut1", category: nil)
        #expect(FileManager.default.fileExists(atPath: closed.files[0].path))
        closed.close()
        #expect(!FileManager.default.fileExists(atPath: closed.files[0].path))
        #expect(throws: ImportError.self) { try closed.read(closed.files[0]) }
    }

    @Test func archiveOfOneCategoryKeepsTheCategoryName() throws {
        let directory = try TemporaryDirectory()
        try directory.write("src/adult/domains", "a.example\n")
        try directory.write("src/adult/urls", "a.example/x\n")
        let archive = directory.path + "/adult.tgz"
        #expect(try directory.tar(["-czf", archive, "-C", directory.path + "/src", "adult"]) == 0)
        let source = try ImportSource(path: archive, listName: "ut1", category: nil)
        #expect(source.files.map(\.listName) == ["ut1/adult/domains", "ut1/adult/urls"])
        #expect(source.files.map(\.category) == ["adult", "adult"])
    }

    @Test func linksOutOfAnArchiveAreNotFollowed() throws {
        let directory = try TemporaryDirectory()
        try directory.write("secret", "secret.example\n")
        try directory.write("src/lists/adult/domains", "a.example\n")
        try FileManager.default.createDirectory(
            atPath: directory.path + "/src/lists/other", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/src/lists/other/domains", withDestinationPath: directory.path + "/secret")
        let archive = directory.path + "/lists.tar.gz"
        #expect(try directory.tar(["-czf", archive, "-C", directory.path + "/src", "lists"]) == 0)
        let source = try ImportSource(path: archive, listName: "l", category: nil)
        #expect(source.files.map(\.listName) == ["l/adult/domains"])
        #expect(source.ignored == ["\(archive)!/lists/other/domains: a link to outside the archive"])
    }

    @Test func directoryWithListFilesIsOneCategory() throws {
        let directory = try TemporaryDirectory()
        try directory.write("mine/domains", "a.example\n")
        try directory.write("mine/expressions", "ads?\n")
        let named = try ImportSource(path: directory.path + "/mine", listName: "mine", category: nil)
        #expect(named.files.map(\.listName) == ["mine/domains", "mine/expressions"])
        #expect(named.files.map(\.category) == ["mine", "mine"])
        let categorised = try ImportSource(path: directory.path + "/mine/", listName: "mine", category: "ads")
        #expect(categorised.files.map(\.category) == ["ads", "ads"])
        #expect(try categorised.read(categorised.files[1]).values == ["ads?"])
    }

    @Test func failingTarIsAClearError() throws {
        let directory = try TemporaryDirectory()
        let archive = try directory.write("broken.tar.gz", "this is not gzip data\n")
        do {
            _ = try ImportSource(path: archive, listName: "x", category: nil)
            Issue.record("a broken archive was accepted")
        } catch {
            #expect(error.description.hasPrefix("\(archive): cannot extract the archive: tar exited with status 2"))
            #expect(error.description.contains("gzip"))
        }
    }

    @Test func pathsWithoutListsAreErrors() throws {
        let directory = try TemporaryDirectory()
        try directory.write("nothing/README", "hello\n")
        #expect(throws: ImportError.self) { try ImportSource(path: directory.path + "/missing", listName: "x") }
        do {
            _ = try ImportSource(path: directory.path + "/nothing", listName: "x")
            Issue.record("a directory without lists was accepted")
        } catch {
            #expect(error.description.hasPrefix("\(directory.path)/nothing: no lists found"))
        }
        #expect(throws: ImportError.self) { try ImportSource(path: directory.path + "/nothing", listName: "") }
        #expect(throws: ImportError.self) { try ImportSource(path: directory.path + "/nothing", listName: "a b") }
    }

    private func expectAdultLists(_ source: ImportSource, shownAs root: String) throws {
        let domains = try source.read(source.files[0])
        #expect(domains.name == "ut1/adult/domains")
        #expect(domains.category == "adult")
        #expect(domains.kind == .domain)
        #expect(domains.source == root + "/adult/domains")
        #expect(domains.values == adultDomains)
        #expect(domains.duplicates == 2)
        #expect(domains.unsupported == 0)
        #expect(
            domains.problems == [
                ImportProblem(
                    file: root + "/adult/domains", line: 7, text: "bad domain with spaces",
                    reason: "contains a space, \(allowed)")
            ])
        #expect(
            domains.problems[0].description
                == "\(root)/adult/domains:7: contains a space, \(allowed): \"bad domain with spaces\"")

        let urls = try source.read(source.files[1])
        #expect(urls.kind == .url)
        #expect(urls.values == adultURLs)
        #expect(urls.duplicates == 1)
        #expect(urls.problems.map(\.line) == [5, 6])
        #expect(
            urls.problems.map(\.reason) == [
                "has a scheme other than http:// or https://", "host contains a space, \(allowed)",
            ])
        #expect(urls.problems.map(\.text) == ["ftp://files.example.com/x", "bad host.com/x"])

        let expressions = try source.read(source.files[2])
        #expect(expressions.kind == .regex)
        #expect(expressions.values == ["(^|[-.?/=])porn([-.?/=]|$)"])
        #expect(expressions.problems.map(\.line) == [2])
        #expect(expressions.problems.map(\.reason) == ["invalid regular expression: Unmatched ( or \\("])

        #expect(try source.read(source.files[3]).values == ["casino.example"])
    }
}
