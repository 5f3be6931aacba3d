extension ListFormat {
    /// How many non-blank lines detection looks at.
    static let detectionLines = 1000

    /// The format of a single list file, judged from its first bytes: `.adblock` when the
    /// first line is an `[Adblock…]` header or most lines look like filter rules, `.hosts`
    /// when most lines are `ADDRESS NAME…`, `.domains` otherwise. Nil when the bytes are not
    /// text (they contain NUL bytes).
    static func detect(_ prefix: UnsafeBufferPointer<UInt8>) -> ListFormat? {
        if prefix.contains(0) { return nil }
        var scanner = LineScanner(prefix)
        var adblock = 0
        var hosts = 0
        var plain = 0
        var seen = 0
        while seen < Self.detectionLines, let line = scanner.next() {
            seen += 1
            let text = line.text
            if seen == 1, Self.startsWithAdblockHeader(text) { return .adblock }
            if text.starts(with: "||".utf8) || text.starts(with: "@@".utf8) || text[0] == UInt8(ascii: "!") {
                adblock += 1
                continue
            }
            let content = line.content
            if content.isEmpty { continue }
            if Self.contains(content, "##") || Self.contains(content, "#@#") {
                adblock += 1
                continue
            }
            let tokens = content.split(whereSeparator: \.isBlank)
            if tokens.count >= 2, HostsLine.isAddress(UnsafeBufferPointer(rebasing: tokens[0])) {
                hosts += 1
            } else {
                plain += 1
            }
        }
        if adblock > 0, adblock >= hosts, adblock >= plain { return .adblock }
        if hosts > 0, hosts >= plain { return .hosts }
        return .domains
    }

    private static func startsWithAdblockHeader(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let header = Array("[adblock".utf8)
        guard text.count >= header.count else { return false }
        return zip(text, header).allSatisfy { byte, wanted in
            (byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte) == wanted
        }
    }

    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { start in
            bytes[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
