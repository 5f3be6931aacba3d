import ArgumentParser
import Foundation
import Policy

struct PolicyImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Import block lists: a squidGuard/UT1 tree or .tar.gz, a hosts file, an Adblock list or plain domains.",
        discussion: """
            A tree gives one list per category file: NAME/CATEGORY/domains, …/urls, …/expressions. \
            A single file gives the list NAME. Bad lines are reported (file and line) and skipped; \
            duplicates are dropped. The import is one transaction: all of it or nothing. \
            Re-importing refreshes a list (entries added by hand are kept).
            """)

    @OptionGroup var store: PolicyStoreOptions

    @Argument(help: "A directory, a .tar.gz/.tgz, or a list file.")
    var path: String

    @Option(help: "The list name (the prefix of a tree's lists).")
    var list: String

    @Option(help: "The category of a single file's list. Default: the list name.")
    var category: String?

    @Flag(help: "Also block the imported lists for everyone (a deny rule in the Default group for each).")
    var deny = false

    @Flag(help: "Import as allow lists (with --deny: allow rules).")
    var allowList = false

    @Option(help: "How many bad lines to print.")
    var showProblems = 20

    func run() throws {
        let store = try self.store.openStore()
        let source: ImportSource
        do {
            source = try ImportSource(path: self.path, listName: self.list, category: self.category)
        } catch {
            throw CommandFailure(description: "\(error)")
        }
        defer { source.close() }
        let started = ContinuousClock.now
        let report = try storeOperation { () throws(PolicyStoreError) in
            try store.importLists(
                from: source, kind: self.allowList ? .allow : .deny, denyForEveryone: self.deny,
                actor: self.store.actorName)
        }
        let elapsed = ContinuousClock.now - started
        var shown = 0
        for list in report.lists {
            print(
                "\(list.name)\t\(list.entries) entries\t\(list.duplicates) duplicates\t\(list.problemCount) bad lines"
                    + (list.unsupported > 0 ? "\t\(list.unsupported) unsupported rules" : ""))
            for problem in list.problems where shown < self.showProblems {
                FileHandle.standardError.write(Data("  \(problem)\n".utf8))
                shown += 1
            }
        }
        for alias in source.aliases { print("skipped \(alias.name): a link to \(alias.target)") }
        for ignored in source.ignored { print("skipped \(ignored)") }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "imported \(report.entries) entries into \(report.lists.count) lists in "
                + String(format: "%.1f", seconds) + " s; \(report.problemCount) bad lines skipped"
                + (report.rulesAdded.isEmpty ? "" : "; deny rules added for \(report.rulesAdded.count) lists"))
    }
}
