/// The entries of one list file, normalised, and what was skipped on the way.
public struct ImportedList: Sendable {
    public let name: String
    public let category: String
    /// The file it came from, as in ``ImportFile/source``.
    public let source: String
    public let kind: EntryKind
    /// Normalised entries, without duplicates, in file order.
    public var values: [String]
    /// Lines that were skipped as unusable, the first ``problemLimit`` of them.
    public var problems: [ImportProblem]
    /// How many problems there were in all (``problems`` keeps at most ``problemLimit``).
    public var problemCount: Int
    /// Entries dropped because the list already had them.
    public var duplicates: Int
    /// Valid rules of a kind Portcullis does not use (Adblock options, paths, exceptions,
    /// cosmetic rules); skipped without being problems.
    public var unsupported: Int

    /// The most problems kept per list, so that a file of garbage cannot use much memory.
    public static let problemLimit = 1000

    init(file: ImportFile) {
        self.name = file.listName
        self.category = file.category
        self.source = file.source
        self.kind = file.kind
        self.values = []
        self.problems = []
        self.problemCount = 0
        self.duplicates = 0
        self.unsupported = 0
    }
}
