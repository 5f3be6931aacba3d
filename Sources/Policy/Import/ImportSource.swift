import Foundation
import Synchronization

/// What a path given to `portcullis policy import` holds, as lists ready to be read one by
/// one (the store imports them list by list, so only one list is in memory at a time).
///
/// The path may be:
/// - a squidGuard/UT1 blacklist directory (see ``files`` for the list names);
/// - a `.tar.gz`/`.tgz` archive of one, extracted into a temporary directory that is removed
///   by ``close()`` or when the source is released;
/// - a single file, whose format is detected from its first 64 KiB: a hosts file, an Adblock
///   list, or a plain list of domains. It becomes one list named `listName`, in `category`
///   (or a category named `listName`).
///
/// List names: a tree gives `LIST/CATEGORY/domains`, `…/urls`, `…/expressions`, with the
/// category named after its directory; a directory that is itself one category gives
/// `LIST/domains`… in `category` (or `LIST`).
public final class ImportSource: Sendable {
    /// The path that was given.
    public let path: String
    /// The files that will become lists, in import order.
    public let files: [ImportFile]
    /// Category directories that are links to other categories, left out.
    public let aliases: [CategoryAlias]
    /// Entries left out of the import, with why (links leading out of an archive).
    public let ignored: [String]
    /// An archive's extraction directory, until it is removed.
    private let temporaryDirectory: Mutex<String?>

    /// How much of a single file format detection reads.
    static let detectionBytes = 1 << 16

    public init(path: String, listName: String, category: String? = nil) throws(ImportError) {
        try Self.check(name: listName, what: "list name")
        if let category { try Self.check(name: category, what: "category") }
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path) }

        var temporaryDirectory: String? = nil
        let location: ListTree.Location
        if ListTree.isDirectory(path) {
            var base = path
            while base.count > 1, base.hasSuffix("/") { base.removeLast() }
            location = ListTree.Location(base: base, shownAs: base, confined: false)
        } else {
            let prefix = try FileContents.bytes(of: path, limit: Self.detectionBytes)
            if TarArchive.isArchive(path: path, prefix: prefix) {
                let directory = try TarArchive.extract(path)
                temporaryDirectory = directory
                location = ListTree.Location(base: directory, shownAs: path + "!", confined: true)
            } else {
                guard let format = prefix.withUnsafeBufferPointer(ListFormat.detect) else {
                    throw .notAList(path, "it holds binary data (NUL bytes)")
                }
                self.files = [
                    ImportFile(
                        path: path, source: path, listName: listName, category: category ?? listName, format: format)
                ]
                self.aliases = []
                self.ignored = []
                self.temporaryDirectory = Mutex(nil)
                return
            }
        }

        do {
            let tree = try ListTree(location, listName: listName, category: category)
            self.files = tree.files
            self.aliases = tree.aliases
            self.ignored = tree.ignored
            self.temporaryDirectory = Mutex(temporaryDirectory)
        } catch {
            if let temporaryDirectory { TarArchive.remove(temporaryDirectory) }
            throw error
        }
    }

    deinit { self.close() }

    /// Removes the files extracted from an archive; ``read(_:)`` fails afterwards. Called
    /// when the source is released too, but a process that exits while holding it (a global,
    /// `exit()`) must call it itself.
    public func close() {
        let directory = self.temporaryDirectory.withLock { directory in
            defer { directory = nil }
            return directory
        }
        if let directory { TarArchive.remove(directory) }
    }

    /// Reads and normalises one of ``files``. Bad lines become problems of the list; only a
    /// file that cannot be read at all is an error.
    public func read(_ file: ImportFile) throws(ImportError) -> ImportedList {
        let bytes = try FileContents.bytes(of: file.path)
        return bytes.withUnsafeBufferPointer { ListParser.parse($0, file: file) }
    }

    private static func check(name: String, what: String) throws(ImportError) {
        guard !name.isEmpty else { throw .invalidName(name, "the \(what) is empty") }
        guard name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x20 && $0 != "\u{7F}" })
        else { throw .invalidName(name, "the \(what) contains blanks or control characters") }
    }
}
