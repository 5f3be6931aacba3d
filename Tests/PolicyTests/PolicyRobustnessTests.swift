import Foundation
import TestSupport
import Testing

@testable import Policy

/// List files, entries, schedules, actions, networks, host names and page templates with bytes
/// changed at random (seeded). Each is read or refused with its error, never a trap; what is
/// accepted reads back as itself; and no template that is accepted can put a value on a page
/// unescaped.
struct PolicyRobustnessTests {
    static let mutator = ByteMutator(
        interesting: "\n\r\t #.*-_/:|^$@!,=[]{}<>&%?0123456789xn-", plus: [0x80, 0xC3, 0xFF])

    static let listSeeds: [(ListFormat, String)] = [
        (
            .domains,
            "# UT1 adult\nexample.com\n*.ads.example.net\n.tracker.example.org\nwww.Example.COM.\n"
                + "xn--bcher-kva.example\nb\u{FC}cher.example\n\n  spaced.example  \n"
        ),
        (.urls, "example.com/path/to/page\nwww2.example.net/a?b=c\nexample.org/\nhttp://e.example/x\n"),
        (.expressions, "(^|\\.)ads?[0-9]*\\.\nbanner[_-]?[0-9]+\n^https?://[^/]*casino # a comment\n"),
        (
            .hosts,
            "127.0.0.1 localhost\n0.0.0.0 ads.example.com tracker.example.com # two\n::1 ip6-localhost\n"
                + "0.0.0.0\tmetrics.example.net\n"
        ),
        (
            .adblock,
            "[Adblock Plus 2.0]\n! comment\n||ads.example.com^\n||tracker.example.net^$third-party\n"
                + "@@||good.example^\nexample.com##.banner\n/banner/*\n"
        ),
    ]

    static func parse(_ bytes: [UInt8], as format: ListFormat) -> ImportedList {
        let file = ImportFile(path: "t", source: "t", listName: "t", category: "t", format: format)
        return bytes.withUnsafeBufferPointer { ListParser.parse($0, file: file) }
    }

    /// Every line break made CRLF (a lone CR stays what it was).
    static func withCRLF(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A && (index == 0 || bytes[index - 1] != 0x0D) { out.append(0x0D) }
            out.append(byte)
        }
        return out
    }

    @Test func mutatedListFilesImportWhatTheyCanAndNameTheLinesTheyCannot() {
        var random = SeededRandom(seed: 0x1157)
        for (format, text) in Self.listSeeds {
            for mutation in 0...400 {
                let bytes = mutation == 0 ? Array(text.utf8) : Self.mutator.mutate(Array(text.utf8), using: &random)
                let label = "\(format) mutation \(mutation): \(String(decoding: bytes, as: UTF8.self).debugDescription)"
                let list = Self.parse(bytes, as: format)
                let lines = bytes.count { $0 == 0x0A } + 1
                #expect(Set(list.values).count == list.values.count, "\(label): duplicates kept")
                #expect(list.problems.allSatisfy { (1...lines).contains($0.line) }, "\(label): \(list.problems)")
                #expect(list.problemCount >= list.problems.count, "\(label)")
                // An imported entry is already in the form one typed by hand is stored in.
                for value in list.values {
                    let typed = try? EntryText(kind: list.kind, raw: value)
                    #expect(typed?.value == value, "\(label): '\(value)' reads back as \(String(describing: typed))")
                }
                // The same file with CRLF line ends is the same list.
                let crlf = Self.parse(Self.withCRLF(bytes), as: format)
                #expect(crlf.values == list.values, "\(label): CRLF changes the values")
                #expect(crlf.problems.map(\.line) == list.problems.map(\.line), "\(label): CRLF changes the problems")
            }
        }
    }

    /// Parses `text` after a mutation; if it parses, the value's text form must parse back to
    /// the same value.
    static func roundTrips<Value: Equatable, Failure: Error>(
        _ seeds: [String], seed: UInt64, parse: (String) throws(Failure) -> Value, text: (Value) -> String
    ) {
        let failures = RoundTrip.failures(seeds, seed: seed, mutator: Self.mutator, parse: parse, text: text)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func mutatedEntriesParseOrAreRefusedAndReadBackAsThemselves() {
        Self.roundTrips(
            [
                "example.com", "host:www.example.com", "example.com/path?q=1", "url:example.org/a",
                "regex:^ads?[0-9]+\\.", "domain:Example.COM.", "b\u{FC}cher.example",
            ], seed: 0xE417, parse: EntryText.init(parsing:), text: \.description)
    }

    @Test func mutatedSchedulesActionsAndNetworksParseOrAreRefusedAndReadBack() {
        Self.roundTrips(
            ["mon-fri 08:00-16:30", "sat,sun 00:00-24:00", "* 22:00-06:00"], seed: 0x5C4E,
            parse: WeeklyWindow.init(parsing:), text: \.description)
        Self.roundTrips(
            ["2026-09-01..2026-12-18", "2026-11-11"], seed: 0xDA7E,
            parse: { text throws(PolicyInputError) in try DateRange(parsing: text, mode: .except) }, text: \.text)
        Self.roundTrips(
            ["allow", "deny", "redirect=http://block.example/?u=%u&c=%t", "intercept=proxy.example:8080"],
            seed: 0xAC71, parse: RuleAction.init(parsing:), text: \.description)
        Self.roundTrips(
            ["10.0.0.0/8", "192.168.1.7", "fc00::/7", "::1", "::ffff:10.1.2.3/120"], seed: 0x1B4E,
            parse: { text throws(IPNetworkError) in try IPNetwork(parsing: text) }, text: \.description)
        Self.roundTrips(
            ["B\u{FC}cher.Example.", "xn--bcher-kva.example", "a.b-c.d", "_dmarc.example.com"], seed: 0x4057,
            parse: { text throws(HostNameError) in try HostName.normalized(text) }, text: { $0 })
    }

    /// What a URL tells the policy, to compare two readings.
    private struct URLFacts: Equatable {
        let scheme: String, host: String, port: Int, path: String, isConnect: Bool

        init(_ facts: RequestFacts) {
            (self.scheme, self.host, self.port, self.path) = (facts.scheme, facts.host, facts.port, facts.path)
            self.isConnect = facts.isConnect
        }

        var url: String {
            RequestFacts(
                scheme: self.scheme, host: self.host, port: self.port, path: self.path, client: nil,
                isConnect: self.isConnect
            ).url
        }
    }

    @Test func mutatedURLsAreRefusedOrReadBackAsTheSameRequest() {
        Self.roundTrips(
            [
                "http://example.com/a?b=c", "https://[2001:db8::1]:8443/x", "example.com:443",
                "http://user@host.example:8080/", "http://[::1]/", "HTTP://Example.com:80",
            ], seed: 0x0421, parse: { text throws(PolicyInputError) in URLFacts(try RequestFacts(url: text)) },
            text: \.url)
        let refusals = RoundTrip.refusalsNotQuoting(
            "https://[2001:db8::1]:8443/x", seed: 0x0422, mutator: Self.mutator,
            parse: { text throws(PolicyInputError) in try RequestFacts(url: text) })
        #expect(refusals.isEmpty, "\(refusals.prefix(5))")
    }

    @Test(arguments: [
        ("http://[::1", "malformed IPv6 address"), ("http://[example.com]/", "malformed IPv6 address"),
        ("http://[::1]x/", "malformed port"), ("http://[::1]:abc/", "malformed port"),
        ("http://[::1]:0/", "malformed port"), ("http://example.com:+80/", "malformed port"),
        ("http://example.com:65536/", "malformed port"), ("http://a:b:80/", "malformed host"),
        ("http://::1/", "malformed host"), ("http://exa]mple.com/", "malformed host"), ("http:///x", "no host"),
    ])
    func malformedURLsAreRefusedSayingWhy(url: String, problem: String) {
        #expect {
            try RequestFacts(url: url)
        } throws: { error in
            (error as? PolicyInputError)?.description == "url '\(url)': \(problem)"
        }
    }

    static let shippedPages: [(name: String, source: String)] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("share/pages")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.sorted().filter { $0.hasSuffix(".html") }.map { file in
            (
                String(file.dropLast(".html".count)),
                (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
            )
        }
    }()

    /// Every value a page can show, as something that would be markup if it went out raw.
    static let hostileValues: PageValues = {
        let hostile = "<q\"'&>"
        var values = PageValues(
            status: 403, title: hostile, reason: hostile, url: hostile, host: hostile, client: hostile, time: hostile,
            requestID: hostile)
        values.group = hostile
        values.category = hostile
        values.list = hostile
        values.rule = hostile
        return values
    }()

    /// Every way Mustache has to ask for a value unescaped, including after changing the
    /// delimiters, is refused or still escaped.
    @Test(arguments: [
        "{{{url}}}", "{{&url}}", "{{ &url }}", "{{& url}}", "{{=<% %>=}}<%&url%>", "{{=<% %>=}}<%{url}%>",
        "{{=| |=}}|&url|", "{{ = <% %> = }}<% & url %>", "{{%PRAGMA}}{{url}}",
    ])
    func unescapedPlaceholdersAreRefusedOrEscaped(source: String) {
        guard let template = try? PageTemplate(name: "block", source: source) else { return }
        let html = PageCatalog(templates: [template]).render("block", Self.hostileValues)
        #expect(!html.contains("<q"), "\(source) -> \(html)")
    }

    @Test func mutatedPageTemplatesAreRefusedOrEscapeEveryValue() throws {
        let pages = Self.shippedPages
        #expect(pages.contains { $0.name == "block" } && pages.contains { $0.name == "layout" })
        var random = SeededRandom(seed: 0x7E41)
        for (index, page) in pages.enumerated() {
            for mutation in 0...150 {
                let source = mutation == 0 ? page.source : Self.mutator.mutate(page.source, using: &random)
                guard let template = try? PageTemplate(name: page.name, source: source) else { continue }
                var templates = try pages.enumerated().filter { $0.offset != index }.map {
                    try PageTemplate(name: $0.element.name, source: $0.element.source)
                }
                templates.append(template)
                let html = PageCatalog(templates: templates).render(page.name, Self.hostileValues)
                #expect(!html.contains("<q"), "\(page.name) mutation \(mutation): a value went out raw in \(source)")
            }
        }
    }
}
