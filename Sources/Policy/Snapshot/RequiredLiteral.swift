/// The longest run of plain characters that every match of a POSIX extended regular
/// expression must contain, lowercased (patterns are matched case-insensitively), or `nil`
/// when none can be proven. A URL that lacks it cannot match, so `regexec` is skipped: most
/// blacklist expressions are a word between delimiters, and most URLs contain none of them.
///
/// Conservative by construction: any top-level alternation gives `nil`; group contents and
/// bracket expressions are skipped; a character followed by `?`, `*` or `{` is optional; a
/// backslash before a letter or digit (GNU classes like `\w`, back-references) ends a run.
enum RequiredLiteral {
    static func of(_ pattern: String) -> [UInt8]? {
        let bytes = Array(pattern.utf8)
        guard !Self.hasTopLevelAlternation(bytes) else { return nil }
        var best: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var index = 0
        func endRun() {
            if run.count > best.count { best = run }
            run = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return nil }
                let next = bytes[index + 1]
                index += 2
                if depth > 0 { continue }
                if Self.isAlphanumeric(next) || next >= 0x80 {
                    endRun()
                } else {
                    run.append(next)
                    Self.applyQuantifier(bytes, at: index, run: &run, best: &best)
                }
                continue
            case UInt8(ascii: "["):
                endRun()
                index = Self.skipBracket(bytes, from: index)
                continue
            case UInt8(ascii: "("):
                endRun()
                depth += 1
            case UInt8(ascii: ")"):
                endRun()
                depth = max(0, depth - 1)
            case UInt8(ascii: "{"):
                if depth == 0 { endRun() }
                while index < bytes.count, bytes[index] != UInt8(ascii: "}") { index += 1 }
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "?"),
                UInt8(ascii: "+"):
                if depth == 0 { endRun() }
            default:
                if depth == 0 {
                    // Only ASCII is lowercased the way REG_ICASE folds it; other bytes end a run.
                    if byte >= 0x80 {
                        endRun()
                    } else {
                        run.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                        Self.applyQuantifier(bytes, at: index + 1, run: &run, best: &best)
                    }
                }
            }
            index += 1
        }
        endRun()
        return best.count >= 2 ? best : nil
    }

    /// After a literal: `?`, `*`, `{` make it optional (dropped), `+` ends the run with it.
    private static func applyQuantifier(_ bytes: [UInt8], at index: Int, run: inout [UInt8], best: inout [UInt8]) {
        guard index < bytes.count else { return }
        switch bytes[index] {
        case UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "{"):
            run.removeLast()
        case UInt8(ascii: "+"):
            break
        default:
            return
        }
        if run.count > best.count { best = run }
        run = []
    }

    private static func skipBracket(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "^") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1 }
        while index < bytes.count, bytes[index] != UInt8(ascii: "]") {
            // [:alpha:], [.x.], [=x=] may hold a ']'.
            if bytes[index] == UInt8(ascii: "["), index + 1 < bytes.count,
                [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[index + 1])
            {
                let close = bytes[index + 1]
                index += 2
                while index + 1 < bytes.count, !(bytes[index] == close && bytes[index + 1] == UInt8(ascii: "]")) {
                    index += 1
                }
                index += 2
                continue
            }
            index += 1
        }
        return index + 1
    }

    private static func hasTopLevelAlternation(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "["):
                index = Self.skipBracket(bytes, from: index)
                continue
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"): depth -= 1
            case UInt8(ascii: "|") where depth <= 0: return true
            default: break
            }
            index += 1
        }
        return false
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
