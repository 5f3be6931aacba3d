/// Why the policy store refused or failed.
public struct PolicyStoreError: Error, Sendable, CustomStringConvertible {
    private enum Reason: Sendable {
        case unusable(path: String, String)
        case database(String)
        case invalid(PolicyInputError)
        case notFound(what: String, name: String)
        case notFoundByID(what: String, id: Int64)
        case conflict(String)
    }

    private let reason: Reason

    /// The database file cannot be opened, created or migrated (locked, unreadable, corrupt).
    public static func unusable(path: String, _ detail: String) -> Self { Self(reason: .unusable(path: path, detail)) }
    public static func database(_ detail: String) -> Self { Self(reason: .database(detail)) }
    /// A value was refused; the error names the field.
    public static func invalid(_ error: PolicyInputError) -> Self { Self(reason: .invalid(error)) }
    public static func notFound(_ what: String, _ name: String) -> Self {
        Self(reason: .notFound(what: what, name: name))
    }
    /// Nothing of the kind has the id (rules are known by theirs, not by a name).
    public static func notFound(_ what: String, id: Int64) -> Self { Self(reason: .notFoundByID(what: what, id: id)) }
    public static func conflict(_ detail: String) -> Self { Self(reason: .conflict(detail)) }

    /// The refused value, when that is what went wrong.
    public var inputError: PolicyInputError? {
        if case .invalid(let error) = self.reason { return error }
        return nil
    }

    public var isNotFound: Bool {
        switch self.reason {
        case .notFound, .notFoundByID: return true
        default: return false
        }
    }

    public var description: String {
        switch self.reason {
        case .unusable(let path, let detail): "cannot use the policy database \(path): \(detail)"
        case .database(let detail): "policy database error: \(detail)"
        case .invalid(let error): error.description
        case .notFound(let what, let name): "no \(what) named '\(name)'"
        case .notFoundByID(let what, let id): "no \(what) with the id \(id)"
        case .conflict(let detail): detail
        }
    }
}
