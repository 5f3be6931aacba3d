import Testing

@testable import Proxy

/// `FieldName` compares names a word at a time, in place when their bytes are contiguous and
/// after a copy when not: both recognise exactly the known names, in any case, and nothing else.
struct FieldNameTests {
    private static let known: [(String, FieldName)] = [
        ("te", .otherHopByHop), ("via", .via), ("host", .host), ("upgrade", .upgrade),
        ("trailer", .otherHopByHop), ("connection", .connection), ("keep-alive", .otherHopByHop),
        ("max-forwards", .maxForwards), ("content-type", .contentType), ("content-length", .contentLength),
        ("x-forwarded-for", .xForwardedFor), ("proxy-connection", .proxyConnection),
        ("transfer-encoding", .transferEncoding), ("proxy-authenticate", .otherHopByHop),
        ("proxy-authorization", .otherHopByHop),
    ]

    /// The name as contiguous bytes, and as a collection with no contiguous storage (copied).
    private static func recognised(_ bytes: [UInt8]) -> (contiguous: FieldName, copied: FieldName) {
        (FieldName(bytes), FieldName(bytes.lazy.map { $0 }))
    }

    @Test func knownNamesAreRecognisedInAnyCase() {
        for (name, expected) in Self.known {
            let lower = Array(name.utf8)
            let upper = Array(name.uppercased().utf8)
            let mixed = lower.enumerated().map { $0.offset % 2 == 0 ? upper[$0.offset] : $0.element }
            for bytes in [lower, upper, mixed] {
                let (contiguous, copied) = Self.recognised(bytes)
                #expect(contiguous == expected, "\(name)")
                #expect(copied == expected, "\(name)")
            }
        }
    }

    /// Every byte at every place of every known name, other than the name's own byte in either
    /// case: none is recognised (a CR for `-` included, which gives `-` with the case bit set).
    @Test func aNameOneByteOffIsNotRecognised() {
        for (name, _) in Self.known {
            let lower = Array(name.utf8)
            for index in lower.indices {
                let own = lower[index]
                for byte in UInt8.min...UInt8.max {
                    if byte == own || (own != UInt8(ascii: "-") && byte == own - 0x20) { continue }
                    var changed = lower
                    changed[index] = byte
                    let (contiguous, copied) = Self.recognised(changed)
                    #expect(contiguous == FieldName.none, "\(name) with \(byte) at \(index)")
                    #expect(copied == FieldName.none, "\(name) with \(byte) at \(index)")
                }
            }
        }
    }

    @Test func longerShorterAndEmptyNamesAreNotRecognised() {
        for (name, _) in Self.known {
            for bytes in [
                Array(name.utf8.dropLast()), Array(name.utf8) + [UInt8(ascii: "s")], Array(("x" + name).utf8),
            ] {
                #expect(Self.recognised(bytes).contiguous == FieldName.none, "\(bytes)")
            }
        }
        #expect(Self.recognised([]).contiguous == FieldName.none)
        let long = Array("content-length-and-then-some-more".utf8)
        #expect(Self.recognised(long).contiguous == FieldName.none)
        #expect(Self.recognised(long).copied == FieldName.none)
    }

    /// A name read from a head is a slice of the head's bytes, and is read in place.
    @Test func aNameInsideLargerBytesIsReadWithinItsBounds() {
        let head = Array("xxContent-Lengthxx".utf8)
        head.withUnsafeBytes { all in
            #expect(FieldName(all[2..<16]) == .contentLength)
            #expect(FieldName(all[2..<15]) == FieldName.none)
            #expect(FieldName(all[1..<16]) == FieldName.none)
        }
    }
}
