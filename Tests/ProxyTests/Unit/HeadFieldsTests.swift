import Testing

@testable import Proxy

/// The head facts the planners decide from, fed field by field as the parsers feed them.
struct HeadFieldsTests {
    private func fields(_ lines: [(String, String)]) -> HeadFields {
        var fields = HeadFields()
        for (name, value) in lines { fields.note(name: Array(name.utf8), value: Array(value.utf8)) }
        fields.finish()
        return fields
    }

    @Test func anOrdinaryHeadHasNoRareFacts() {
        let fields = self.fields([("Host", "example.com"), ("Content-Length", "12"), ("Accept", "*/*")])
        #expect(fields.contentLength == 12)
        #expect(fields.hostCount == 1)
        #expect(fields.framingError == nil)
        #expect(fields.upgrade == nil && fields.maxForwards == nil && fields.connectionListed.isEmpty)
        #expect(!fields.hasHopByHop)
    }

    @Test func theRareFactsAreKeptTogether() {
        let fields = self.fields([
            ("Connection", "Upgrade, X-Private, content-length"), ("Upgrade", "websocket"), ("Max-Forwards", "3"),
            ("Content-Length", "1"), ("Content-Length", "2"),
        ])
        #expect(fields.upgradeProtocol == "websocket")
        #expect(fields.maxForwards == "3")
        // A framing field is never dropped on the sender's say-so; any other listed name is.
        #expect(fields.connectionListed == ["X-Private"])
        #expect(fields.isDropped(name: Array("x-private".utf8)))
        #expect(fields.framingError == "conflicting Content-Length values")
    }

    @Test func aCopyTakenBeforeMoreFieldsDoesNotSeeThem() {
        var first = HeadFields()
        first.note(name: Array("Upgrade".utf8), value: Array("h2c".utf8))
        let copy = first
        first.note(name: Array("Max-Forwards".utf8), value: Array("0".utf8))
        first.note(name: Array("Connection".utf8), value: Array("X-A".utf8))
        #expect(copy.upgrade == "h2c" && copy.maxForwards == nil && copy.connectionListed.isEmpty)
        #expect(first.upgrade == "h2c" && first.maxForwards == "0" && first.connectionListed == ["X-A"])
    }

    @Test func hostsAreCountedUpToTheLimitOfTheCounter() {
        let fields = self.fields(Array(repeating: ("Host", "a"), count: 300))
        #expect(fields.hostCount == 255)
    }

    @Test func noteSaysWhatTheNameWas() {
        var fields = HeadFields()
        #expect(fields.note(name: Array("content-TYPE".utf8), value: Array("text/plain".utf8)) == .contentType)
        #expect(fields.note(name: Array("X-Other".utf8), value: Array("1".utf8)) == FieldName.none)
    }
}
