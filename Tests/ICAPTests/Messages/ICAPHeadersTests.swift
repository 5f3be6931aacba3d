import Testing

@testable import ICAP

struct ICAPHeadersTests {
    @Test func lookupIgnoresCaseAndKeepsTheSpellingAndOrder() {
        var headers: ICAPHeaders = ["ISTag": "\"a\"", "Allow": "204"]
        headers.add(name: "allow", value: "trailers")
        #expect(headers.first(name: "istag") == "\"a\"")
        #expect(headers.first(name: "ALLOW") == "204")
        #expect(headers.values(name: "Allow") == ["204", "trailers"])
        #expect(headers.contains(name: "aLLow"))
        #expect(!headers.contains(name: "Preview"))
        #expect(headers.first(name: "Preview") == nil)
        #expect(headers.map(\.name) == ["ISTag", "Allow", "allow"])
        #expect(headers.count == 3)
    }

    @Test func replaceOrAddAndRemoveTakeEveryFieldOfTheName() {
        var headers: ICAPHeaders = ["A": "1", "B": "2", "a": "3"]
        headers.replaceOrAdd(name: "a", value: "4")
        #expect(headers == ICAPHeaders([("B", "2"), ("a", "4")]))
        headers.remove(name: "B")
        #expect(headers == ["a": "4"])
        #expect(!headers.isEmpty)
    }

    @Test func equalityIsFieldByFieldInOrder() {
        #expect(ICAPHeaders([("A", "1"), ("B", "2")]) != ICAPHeaders([("B", "2"), ("A", "1")]))
        #expect(ICAPHeaders([("A", "1")]) != ICAPHeaders([("a", "1")]))
    }

    @Test func namesDifferingOnlyPastASCIIAreNotFolded() {
        let headers: ICAPHeaders = ["X-Ä": "1"]
        #expect(headers.first(name: "x-ä") == nil)
        #expect(headers.first(name: "x-Ä") == "1")
    }

    @Test func requestHeadReadsPreviewAndAllow() {
        var head = ICAPRequestHead(
            method: .respmod, uri: "icap://h/s", headers: ["Preview": " 1024 ", "Allow": "204, trailers"])
        #expect(head.preview == 1024)
        #expect(head.allows204)
        head.headers = ["Preview": "lots", "Allow": "206"]
        #expect(head.preview == nil)
        #expect(!head.allows204)
    }

    @Test func responseHeadISTagConvenience() {
        var head = ICAPResponseHead(status: .noContent)
        #expect(head.istag == nil)
        head.istag = "\"v1\""
        head.istag = "\"v2\""
        #expect(head.headers == ["ISTag": "\"v2\""])
        head.istag = nil
        #expect(head.headers.isEmpty)
        #expect(ICAPResponseHead(status: .continue).isInterim)
    }

    @Test func statusesHaveTheRFCsReasonPhrases() {
        let table = ICAPStatus.known.map(\.description)
        #expect(
            table == [
                "100 Continue", "200 OK", "204 No Content", "400 Bad Request", "404 ICAP Service Not Found",
                "405 Method Not Allowed For Service", "408 Request Timeout", "500 Server Error",
                "501 Method Not Implemented", "502 Bad Gateway", "503 Service Overloaded",
                "505 ICAP Version Not Supported By Server",
            ])
        #expect(ICAPStatus(code: 503) == .serviceOverloaded)
        #expect(ICAPStatus(code: 299) == ICAPStatus(code: 299, reasonPhrase: "Unknown"))
        #expect(ICAPResponseHead(statusCode: 204, reasonPhrase: "Unmodified").status.code == 204)
    }
}
