/// What a list entry matches.
public enum EntryKind: String, Sendable, CaseIterable {
    /// A host name and every name below it (`example.com` matches `www.example.com`).
    case domain
    /// Exactly one host name.
    case host
    /// A URL prefix in squidGuard form, `host/path` without scheme or port.
    case url
    /// A POSIX extended regular expression matched case-insensitively against the URL.
    case regex
}
