import Testing

/// The captured bytes are what was captured: each piece has the length it had on the wire.
struct FixtureIntegrityTests {
    @Test func everyPieceHasItsCapturedLength() {
        for capture in Captured.all {
            for piece in capture.clientToServer + capture.serverToClient {
                #expect(
                    piece.text.utf8.count == piece.bytes, "\(capture.name): \(piece.text.prefix(40).debugDescription)")
            }
        }
        for piece in [Captured.unknownServiceResponse, Captured.garbageResponse, Captured.unknownMethodResponse] {
            #expect(piece.text.utf8.count == piece.bytes)
        }
    }

    @Test func everyLineOfTheICAPHeadsEndsInCRLF() {
        // The peers' own framing: no bare LF before the first empty line of any message.
        for capture in Captured.all {
            for piece in capture.clientToServer + capture.serverToClient {
                let bytes = Array(piece.text.utf8)
                guard bytes.first.map({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) == true else { continue }
                var index = 0
                while index + 3 < bytes.count, bytes[index..<index + 4] != [13, 10, 13, 10] {
                    if bytes[index + 1] == 10 { #expect(bytes[index] == 13, "\(capture.name) at \(index)") }
                    index += 1
                }
            }
        }
    }
}
