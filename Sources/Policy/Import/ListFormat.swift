/// The layout of a list file, which decides how its lines are read.
public enum ListFormat: String, Sendable, CaseIterable {
    /// One domain per line: squidGuard/UT1 `domains` files and plain lists. A leading `*.`
    /// or `.` is accepted and means the same domain.
    case domains
    /// squidGuard `urls` files: `host/path` per line.
    case urls
    /// squidGuard `expressions` files: one POSIX extended regular expression per line.
    case expressions
    /// A hosts file (`0.0.0.0 ads.example.com`): the address column is dropped and each name
    /// becomes a domain entry, since that is what users of such block lists expect.
    case hosts
    /// An Adblock filter list, of which only `||domain^` rules are used.
    case adblock

    /// The kind of every entry a file of this format gives.
    public var kind: EntryKind {
        switch self {
        case .domains, .hosts, .adblock: return .domain
        case .urls: return .url
        case .expressions: return .regex
        }
    }

    /// The squidGuard file names of a blacklist tree, in import order.
    static let treeFiles: [(name: String, format: ListFormat)] = [
        ("domains", .domains), ("urls", .urls), ("expressions", .expressions),
    ]
}
