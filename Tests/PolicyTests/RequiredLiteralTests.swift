import Testing

@testable import Policy

/// The regex prefilter may only skip URLs that cannot match: every literal it finds must be
/// in every match.
struct RequiredLiteralTests {
    private func literal(_ pattern: String) -> String? {
        RequiredLiteral.of(pattern).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aWordBetweenDelimitersIsRequired() {
        #expect(self.literal("(^|[-.?/=])Casino([-.?/=]|$)") == "casino")
        #expect(self.literal("^http://[^/]*badsite\\.com/") == "badsite.com/")
        #expect(self.literal("porn") == "porn")
    }

    @Test func optionalAndRepeatedCharactersAreNotRequired() {
        #expect(self.literal("colou?r") == "colo")
        #expect(self.literal("ab*cdef") == "cdef")
        #expect(self.literal("xy+zzz") == "zzz")
        #expect(self.literal("abc{0,3}d") == "ab")
        #expect(self.literal("a(bcd)*efg") == "efg")
    }

    @Test func alternationsClassesAndGNUEscapesGiveNoLiteralOrAShorterOne() {
        #expect(self.literal("foo|barbaz") == nil)
        #expect(self.literal("[abc]+") == nil)
        #expect(self.literal("\\wword") == "word")
        #expect(self.literal("a.b") == nil, "single characters are not worth a scan")
        #expect(self.literal("[]x]yz") == "yz")
        #expect(self.literal("[[:alpha:]]+test") == "test")
    }

    @Test func theSnapshotStillFindsEveryMatchWithThePrefilter() throws {
        let store = try freshStore()
        _ = try store.addEntries(["regex:Colou?r", "regex:(^|/)ads?/", "regex:foo|bar"], to: "deny", actor: "t")
        let snapshot = try store.snapshot()
        #expect(try snapshot.check("http://x.example/COLOR").verdict == "deny")
        #expect(try snapshot.check("http://x.example/ad/1").verdict == "deny")
        #expect(try snapshot.check("http://x.example/bar").verdict == "deny")
        #expect(try snapshot.check("http://x.example/colr").verdict == "allow")
    }
}
