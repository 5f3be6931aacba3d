import Testing

@testable import Policy

struct HostNameTests {
    @Test func spellingsOfOneNameMeetInOneForm() throws {
        for spelling in ["Bücher.DE.", "bücher.de", "xn--bcher-kva.de", "XN--BCHER-KVA.DE", "BÜCHER.de"] {
            #expect(try HostName.normalized(spelling) == "xn--bcher-kva.de", "\(spelling)")
        }
        // Decomposed ü (u + combining diaeresis) is composed first.
        #expect(try HostName.normalized("bu\u{0308}cher.de") == "xn--bcher-kva.de")
    }

    @Test func asciiNamesAreLowercasedWithOneTrailingDotRemoved() throws {
        #expect(try HostName.normalized("WWW.Example.COM") == "www.example.com")
        #expect(try HostName.normalized("example.com.") == "example.com")
        #expect(try HostName.normalized("a_b-c.example") == "a_b-c.example")
        #expect(try HostName.normalized("localhost") == "localhost")
        #expect(try HostName.normalized(Substring("x.Example.org").dropFirst(2)) == "example.org")
    }

    @Test func internationalisedLabelsBecomePunycode() throws {
        #expect(try HostName.normalized("München.de") == "xn--mnchen-3ya.de")
        #expect(try HostName.normalized("café.fr") == "xn--caf-dma.fr")
        #expect(try HostName.normalized("中国") == "xn--fiqs8s")
        #expect(try HostName.normalized("例え.テスト") == "xn--r8jz45g.xn--zckzah")
        // Ideographic full stops separate labels.
        #expect(try HostName.normalized("例え。テスト") == "xn--r8jz45g.xn--zckzah")
    }

    @Test func ipv4LiteralsPassTheSameRules() throws {
        #expect(try HostName.normalized("10.1.2.3") == "10.1.2.3")
        #expect(HostName.isIPv4Literal("10.1.2.3"))
        #expect(HostName.isIPv4Literal("255.255.255.255"))
        for text in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "a.b.c.d", "1.2.3.4.", "", "1234.1.1.1"] {
            #expect(!HostName.isIPv4Literal(text), "\(text)")
        }
    }

    @Test func lengthLimitsAreInBytesAfterConversion() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(try HostName.normalized(label63 + ".com") == label63 + ".com")
        let name253 =
            [String](repeating: label63, count: 3).joined(separator: ".") + "." + String(repeating: "b", count: 61)
        #expect(name253.utf8.count == 253)
        #expect(try HostName.normalized(name253) == name253)
        #expect(try HostName.normalized(name253 + ".") == name253)
        #expect(throws: HostNameError.self) { try HostName.normalized(name253 + "b") }
        #expect(throws: HostNameError.self) { try HostName.normalized(label63 + "a.com") }
        // 59 × ü: "xn--" and at least one character each is more than 63 bytes.
        #expect(throws: HostNameError.self) { try HostName.normalized(String(repeating: "ü", count: 60) + ".de") }
    }

    @Test func refusalsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("", "is empty"),
            (".", "is empty"),
            (
                "bad domain.com",
                "contains a space, which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"
            ),
            ("example.com/path", "contains '/', which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"),
            ("example.com:8080", "contains ':', which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"),
            ("*.example.com", "contains '*', which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"),
            (
                "tab\there.com",
                "contains the control character U+0009, which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"
            ),
            (
                "zero\u{200B}width.com",
                "contains U+200B, which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"
            ),
            ("bü cher.de", "contains a space, which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"),
            (".example.com", "starts with '.'"),
            ("a..example.com", "has an empty label ('..')"),
            ("example.com..", "ends with more than one '.'"),
            ("ü..de", "has an empty label ('..')"),
            ("ü.de..", "ends with more than one '.'"),
            (
                String(repeating: "a", count: 64) + ".com",
                "has a label of 64 bytes ('\(String(repeating: "a", count: 64))'); at most 63 are allowed"
            ),
        ]
        for (input, reason) in cases {
            do {
                let accepted = try HostName.normalized(input)
                Issue.record("'\(input)' was accepted as '\(accepted)'")
            } catch {
                #expect(error.reason == reason, "\(input)")
                #expect(error.description == "host name '\(input)' \(reason)")
            }
        }
    }

    @Test func invalidUTF8IsRefusedNotCrashed() {
        let bytes: [UInt8] = [0x61, 0xFF, 0x2E, 0x64, 0x65]
        #expect(throws: HostNameError.self) {
            try bytes.withUnsafeBufferPointer { buffer throws(HostNameError) in try HostName.normalized(utf8: buffer) }
        }
        do {
            _ = try bytes.withUnsafeBufferPointer { buffer throws(HostNameError) in
                try HostName.normalized(utf8: buffer)
            }
        } catch {
            #expect(error.reason == "is not valid UTF-8")
        }
    }

    @Test func displayFormDecodesPunycodeLabels() {
        #expect(HostName.unicode("xn--bcher-kva.de") == "bücher.de")
        #expect(HostName.unicode("www.xn--mnchen-3ya.de") == "www.münchen.de")
        #expect(HostName.unicode("xn--99999a.com") == "xn--99999a.com")
        #expect(HostName.unicode("example.com") == "example.com")
    }
}
