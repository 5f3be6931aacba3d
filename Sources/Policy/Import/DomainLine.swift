/// A line of a `domains` file or plain list: one domain, optionally written `*.domain` or
/// `.domain` (the same thing: the domain and everything below it).
enum DomainLine {
    static func parse(_ content: UnsafeBufferPointer<UInt8>) -> LineOutcome {
        var start = 0
        if content.count >= 2, content[0] == UInt8(ascii: "*"), content[1] == UInt8(ascii: ".") {
            start = 2
        } else if content.count >= 1, content[0] == UInt8(ascii: ".") {
            start = 1
        }
        do {
            return .value(try HostName.normalized(utf8: UnsafeBufferPointer(rebasing: content[start...])))
        } catch {
            return .problem(error.reason)
        }
    }
}
