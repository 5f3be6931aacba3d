/// A line of an Adblock filter list. Only `||domain^` rules (block the domain and its
/// subdomains) are used; other rules (`$` options, paths, `@@` exceptions, `##` cosmetic
/// rules, wildcards) are counted as unsupported. `!` comments and the `[Adblock …]` header
/// are ignored like `#` comments.
enum AdblockLine {
    static func parse(_ line: ListLine) -> LineOutcome {
        let text = line.text
        switch text[0] {
        case UInt8(ascii: "!"), UInt8(ascii: "["):
            return .ignored
        case .hash:
            // `##…`, `#@#…`, `#?#…`, `#$#…`: cosmetic rules for every site; other `#` lines
            // are comments.
            return text.count >= 2 && "#@?$".utf8.contains(text[1]) ? .unsupported : .ignored
        default:
            break
        }
        let content = line.content
        guard content.count > 3, content[0] == UInt8(ascii: "|"), content[1] == UInt8(ascii: "|"),
            content[content.count - 1] == UInt8(ascii: "^")
        else { return .unsupported }
        let domain = UnsafeBufferPointer(rebasing: content[2..<(content.count - 1)])
        if domain.contains(where: { "*/$^|?=:%&~,@#".utf8.contains($0) }) { return .unsupported }
        do {
            return .value(try HostName.normalized(utf8: domain))
        } catch {
            return .problem(error.reason)
        }
    }
}
