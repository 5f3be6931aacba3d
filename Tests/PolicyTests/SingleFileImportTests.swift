import Foundation
import Testing

@testable import Policy

private let allowed = "which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"

/// Imports the single file `name` holding `bytes` and returns its format and list.
private func importFile(
    _ bytes: [UInt8], named name: String = "list.txt", listName: String = "mine", category: String? = nil
) throws -> (ImportFile, ImportedList) {
    let directory = try TemporaryDirectory()
    let path = try directory.write(name, bytes: bytes)
    let source = try ImportSource(path: path, listName: listName, category: category)
    try #require(source.files.count == 1)
    let file = source.files[0]
    #expect(file.source == path)
    return (file, try source.read(file))
}

private func importFile(
    _ text: String, listName: String = "mine", category: String? = nil
) throws -> (
    ImportFile, ImportedList
) {
    try importFile(Array(text.utf8), listName: listName, category: category)
}

struct SingleFileImportTests {
    @Test func hostsFileGivesDomainsWithoutTheAddressesAndItsOwnNames() throws {
        let (file, list) = try importFile(
            """
            # StevenBlack-style hosts
            127.0.0.1 localhost
            127.0.0.1\tlocalhost.localdomain
            255.255.255.255 broadcasthost
            ::1 localhost ip6-localhost ip6-loopback
            fe80::1%lo0 localhost
            0.0.0.0 0.0.0.0

            0.0.0.0 ads.example.com
            127.0.0.1 a.example.com   b.example.com # two names
            0.0.0.0 ADS.example.com
            0.0.0.0 bad!.example.com
            justaname.example.com
            ::1 tracker.example.net
            0.0.0.0

            """, listName: "hosts", category: "ads")
        #expect(file.format == .hosts)
        #expect(list.name == "hosts")
        #expect(list.category == "ads")
        #expect(list.kind == .domain)
        #expect(list.values == ["ads.example.com", "a.example.com", "b.example.com", "tracker.example.net"])
        #expect(list.duplicates == 1)
        #expect(list.problems.map(\.line) == [12, 13, 15])
        #expect(
            list.problems.map(\.reason) == [
                "'bad!.example.com' contains '!', \(allowed)", "expected an address followed by host names",
                "has an address but no host name",
            ])
    }

    @Test func adblockListKeepsOnlyDomainRules() throws {
        let (file, list) = try importFile(
            """
            [Adblock Plus 2.0]
            ! Title: test list
            ||ads.example.com^
            ||Tracker.Example.NET^
            ||ads.example.com^
            ||example.org^$third-party
            ||example.net/banner
            @@||good.example.com^
            example.com##.ad-banner
            ##.sponsored
            /banner/*/img^
            ||bad domain.com^
            ||*.wild.example^
            # a comment
            ||xn--mnchen-3ya.de^
            ||münchen.de^
            """)
        #expect(file.format == .adblock)
        #expect(list.category == "mine")
        #expect(list.values == ["ads.example.com", "tracker.example.net", "xn--mnchen-3ya.de"])
        #expect(list.duplicates == 2)
        #expect(list.unsupported == 7)
        #expect(list.problems.map(\.line) == [12])
        #expect(list.problems.map(\.reason) == ["contains a space, \(allowed)"])
    }

    @Test func adblockListIsRecognisedWithoutHeader() throws {
        let (file, list) = try importFile("||a.example^\n||b.example^$popup\n")
        #expect(file.format == .adblock)
        #expect(list.values == ["a.example"])
        #expect(list.unsupported == 1)
    }

    @Test func plainListWithCRLF() throws {
        let (file, list) = try importFile(
            "# plain\r\nOne.Example\r\n\r\ntwo.example.\r\n*.three.example\r\n  four.example \r\n")
        #expect(file.format == .domains)
        #expect(file.category == "mine")
        #expect(list.values == ["one.example", "two.example", "three.example", "four.example"])
        #expect(list.problems.isEmpty)
    }

    @Test func invalidUTF8IsABadLineNotACrash() throws {
        var bytes = Array("good.example\n".utf8)
        bytes += [0x62, 0xE9, 0x62, 0xE9] + Array(".fr\n".utf8)
        bytes += Array("# caf".utf8) + [0xE9] + Array("\n".utf8)
        bytes += Array("ok.example # trailing caf".utf8) + [0xE9, 0x0A]
        bytes += [0xC3] + Array(".example\n".utf8)
        let (_, list) = try importFile(bytes)
        #expect(list.values == ["good.example", "ok.example"])
        #expect(list.problems.map(\.line) == [2, 5])
        #expect(list.problems.map(\.reason) == ["is not valid UTF-8", "is not valid UTF-8"])
        #expect(list.problems.map(\.text) == ["b\u{FFFD}b\u{FFFD}.fr", "\u{FFFD}.example"])
    }

    @Test func largeListKeepsFirstOccurrencesInFileOrder() throws {
        // Enough lines to cross many batches and grow the index several times; every third
        // line repeats an earlier name (in another spelling now and then).
        var lines: [String] = []
        var expected: [String] = []
        for number in 0..<20_000 {
            if number % 3 == 2 {
                let earlier = expected[(number * 7919) % expected.count]
                lines.append(number % 2 == 0 ? earlier.uppercased() + "." : earlier)
            } else {
                let name = "host\(number).example"
                lines.append(name)
                expected.append(name)
            }
        }
        let (_, list) = try importFile(lines.joined(separator: "\n"))
        #expect(list.values == expected)
        #expect(list.duplicates == lines.count - expected.count)
    }

    @Test func longBadLinesAreShortenedInReports() throws {
        let line = "bad " + String(repeating: "x", count: 300)
        let (_, list) = try importFile(line + "\n")
        #expect(list.problems.count == 1)
        #expect(list.problems[0].text == String(line.prefix(200)) + "…")
    }

    @Test func problemsKeptAreBoundedButCounted() throws {
        let (_, list) = try importFile(String(repeating: "not a name\n", count: ImportedList.problemLimit + 5))
        #expect(list.problems.count == ImportedList.problemLimit)
        #expect(list.problemCount == ImportedList.problemLimit + 5)
        #expect(list.problems.last?.line == ImportedList.problemLimit)
    }

    @Test func binaryFileIsNotAList() throws {
        do {
            _ = try importFile([0x00, 0x01, 0x02, 0x0A, 0x41])
            Issue.record("a binary file was accepted")
        } catch let error as ImportError {
            #expect(error.description.hasSuffix(": not a list: it holds binary data (NUL bytes)"))
        }
    }

    @Test func emptyFileIsAnEmptyList() throws {
        let (file, list) = try importFile("")
        #expect(file.format == .domains)
        #expect(list.values.isEmpty)
    }
}
