/// Why a path cannot be imported at all (problems with single lines are ``ImportProblem``s).
public struct ImportError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case notFound
        case unreadable(String)
        case notAList(String)
        case noLists
        case archive(String)
        case invalidName(String)
    }

    private let kind: Kind
    /// The path (or list name) concerned.
    public let path: String

    private init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    static func notFound(_ path: String) -> Self { .init(.notFound, path: path) }
    static func unreadable(_ path: String, _ detail: String) -> Self { .init(.unreadable(detail), path: path) }
    static func notAList(_ path: String, _ detail: String) -> Self { .init(.notAList(detail), path: path) }
    static func noLists(_ path: String) -> Self { .init(.noLists, path: path) }
    static func archive(_ path: String, _ detail: String) -> Self { .init(.archive(detail), path: path) }
    static func invalidName(_ name: String, _ detail: String) -> Self {
        .init(.invalidName(detail), path: name)
    }

    /// What is wrong, without the path (for a message that names the file its own way).
    public var detail: String {
        switch self.kind {
        case .notFound: return "no such file or directory"
        case .noLists: return "no lists found"
        case .unreadable(let detail), .notAList(let detail), .archive(let detail), .invalidName(let detail):
            return detail
        }
    }

    public var description: String {
        switch self.kind {
        case .notFound:
            return "\(self.path): no such file or directory"
        case .unreadable(let detail):
            return "\(self.path): cannot be read: \(detail)"
        case .notAList(let detail):
            return "\(self.path): not a list: \(detail)"
        case .noLists:
            return
                "\(self.path): no lists found (expected files named domains, urls or expressions, directly or in category directories)"
        case .archive(let detail):
            return "\(self.path): cannot extract the archive: \(detail)"
        case .invalidName(let detail):
            return "invalid name '\(self.path)': \(detail)"
        }
    }
}
