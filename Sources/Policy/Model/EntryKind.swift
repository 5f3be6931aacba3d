/// How a list entry matches a request.
public enum EntryKind: String, Sendable, CaseIterable {
    /// The domain and all its subdomains.
    case domain
    /// Exactly that host.
    case host
    /// squidGuard `urls`: host (a leading `www<digits>.` ignored) and a path prefix.
    case url
    /// A POSIX extended regular expression, matched case-insensitively against the whole URL.
    case regex
}
