import Testing

@testable import Proxy

/// The field-line reader shared by both parsers, on raw bytes.
struct FieldLineSyntaxTests {
    private func parse(_ bytes: [UInt8]) -> [(String, String)]? {
        var fields: [(String, String)] = []
        let result = bytes.withUnsafeBytes { all in
            FieldLineSyntax.parse(all, from: 0, removesSpaceBeforeColon: false) { name, value in
                fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
        }
        return result == nil ? nil : fields
    }

    @Test func everyByteOfAValueIsCheckedWhereverItIs() {
        // Values long enough to be read eight bytes at a time, with the bad byte in each place.
        let value = Array("abcdefghijklmnopqrstuvwx".utf8)
        for bad: UInt8 in [0x00, 0x0A, 0x0D, 0x1F, 0x7F] {
            // (A line feed last would just end the line early, as a bare LF may.)
            for position in value.indices where !(bad == 0x0A && position == value.count - 1) {
                var bytes = value
                bytes[position] = bad
                let line = Array("X-Long: ".utf8) + bytes + Array("\r\n\r\n".utf8)
                #expect(self.parse(line) == nil, "byte \(bad) at \(position)")
            }
        }
    }

    @Test func tabsSpacesAndObsTextAreValueBytes() throws {
        var value = Array("a\tb c".utf8) + [0x80, 0xC3, 0xA9, 0xFF] + Array("0123456789\tz".utf8)
        let line = Array("X-Ok:  ".utf8) + value + Array(" \t\r\n\r\n".utf8)
        let fields = try #require(self.parse(line))
        #expect(fields.count == 1)
        #expect(Array(fields[0].1.utf8) == Array(String(decoding: value, as: UTF8.self).utf8))
        // Only white space: an empty value.
        value = Array("   \t   \t  ".utf8)
        #expect(self.parse(Array("X-Empty:".utf8) + value + Array("\r\n\r\n".utf8))?.first?.1 == "")
    }
}
