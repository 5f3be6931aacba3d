import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lists of a squidGuard/UT1 blacklist directory.
///
/// A directory that directly holds `domains`, `urls` or `expressions` files is one category;
/// otherwise each sub-directory holding such files is a category named after it. A
/// directory with nothing but a single sub-directory that is not itself a category (the
/// `blacklists/` top directory of UT1's archive) is descended into first.
struct ListTree {
    var files: [ImportFile] = []
    var aliases: [CategoryAlias] = []
    /// Entries left out, with why.
    var ignored: [String] = []

    /// Where the tree lies and how to show its paths.
    struct Location {
        /// The directory that was given, or an archive's extraction directory.
        let base: String
        /// What stands for `base` in reported paths (the directory itself, or `ARCHIVE!`).
        let shownAs: String
        /// Whether files must stay inside `base` (archives: a symbolic link in an archive
        /// may not make the import read other files).
        let confined: Bool

        func shown(_ path: String) -> String { self.shownAs + path.dropFirst(self.base.count) }
    }

    /// `category` names a single-category directory; a tree's categories are always named
    /// after their directories.
    init(_ location: Location, listName: String, category: String?) throws(ImportError) {
        let realBase = Self.realPath(location.base) ?? location.base
        var directory = location.base
        var depth = 0
        while depth < Self.maximumDescent, !Self.isCategory(directory),
            let only = try Self.onlyDirectory(in: directory, location), !Self.isCategory(only)
        {
            directory = only
            depth += 1
        }

        if Self.isCategory(directory) {
            self.add(category: category ?? listName, directory: directory, prefix: listName, location, realBase)
        } else {
            let realDirectory = Self.realPath(directory)
            var targets: [(name: String, target: String)] = []
            var categories: Set<String> = []
            for name in try Self.visibleEntries(of: directory, location) {
                let path = directory + "/" + name
                guard Self.isDirectory(path), Self.isCategory(path) else { continue }
                let real = Self.realPath(path)
                if Self.isSymbolicLink(path), let real, let realDirectory,
                    (real as NSString).deletingLastPathComponent == realDirectory
                {
                    targets.append((name, (real as NSString).lastPathComponent))
                    continue
                }
                categories.insert(name)
                self.add(category: name, directory: path, prefix: "\(listName)/\(name)", location, realBase)
            }
            for (name, target) in targets where categories.contains(target) {
                self.aliases.append(CategoryAlias(name: name, target: target))
            }
        }
        guard !self.files.isEmpty else { throw .noLists(location.shown(directory)) }
    }

    /// How many single directories deep the tree may start (a bound for links in a loop).
    static let maximumDescent = 8

    private mutating func add(
        category: String, directory: String, prefix: String, _ location: Location, _ realBase: String
    ) {
        for (name, format) in ListFormat.treeFiles {
            let path = directory + "/" + name
            guard Self.isRegularFile(path) else { continue }
            if location.confined {
                guard let real = Self.realPath(path), real.hasPrefix(realBase + "/") else {
                    self.ignored.append("\(location.shown(path)): a link to outside the archive")
                    continue
                }
            }
            self.files.append(
                ImportFile(
                    path: path, source: location.shown(path), listName: "\(prefix)/\(name)", category: category,
                    format: format))
        }
    }

    private static func isCategory(_ directory: String) -> Bool {
        ListFormat.treeFiles.contains { Self.isRegularFile(directory + "/" + $0.name) }
    }

    /// The path of the single visible entry of `directory` if it is a directory.
    private static func onlyDirectory(in directory: String, _ location: Location) throws(ImportError) -> String? {
        let entries = try Self.visibleEntries(of: directory, location)
        guard entries.count == 1 else { return nil }
        let path = directory + "/" + entries[0]
        return Self.isDirectory(path) ? path : nil
    }

    /// Entries not starting with `.`, sorted.
    private static func visibleEntries(of directory: String, _ location: Location) throws(ImportError) -> [String] {
        do {
            return try FileContents.names(in: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .unreadable(location.shown(directory), "cannot list the directory: \(error.detail)")
        }
    }

    static func isDirectory(_ path: String) -> Bool { Self.mode(path, follow: true) == S_IFDIR }
    static func isRegularFile(_ path: String) -> Bool { Self.mode(path, follow: true) == S_IFREG }
    private static func isSymbolicLink(_ path: String) -> Bool { Self.mode(path, follow: false) == S_IFLNK }

    private static func mode(_ path: String, follow: Bool) -> mode_t? {
        var status = stat()
        let result = follow ? stat(path, &status) : lstat(path, &status)
        return result == 0 ? status.st_mode & S_IFMT : nil
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
