/// A file that an ``ImportSource`` will turn into one list.
public struct ImportFile: Sendable, Hashable {
    /// Where the file is read from (inside a temporary directory for archives).
    public let path: String
    /// The file as reported to people: its path, or `ARCHIVE!/INNER/PATH` for archives.
    public let source: String
    /// The name of the list it becomes (`ut1/adult/domains`).
    public let listName: String
    public let category: String
    public let format: ListFormat

    /// The kind of all its entries.
    public var kind: EntryKind { self.format.kind }
}
