import ArgumentParser
import Policy

struct PolicyListsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lists", abstract: "Print every list with its kind, category and entry counts.")

    @OptionGroup var store: PolicyStoreOptions

    func run() throws {
        let store = try self.store.openStore()
        let lists = try storeOperation { () throws(PolicyStoreError) in try store.lists() }
        print("NAME\tKIND\tCATEGORY\tENABLED\tENTRIES\tDOMAINS\tHOSTS\tURLS\tREGEXES\tSOURCE")
        for list in lists {
            let counts = [EntryKind.domain, .host, .url, .regex].map { String(list.counts[$0] ?? 0) }
            print(
                ([list.name, list.kind.rawValue, list.category, list.enabled ? "yes" : "no", String(list.total)]
                    + counts + [list.source]).joined(separator: "\t"))
        }
    }
}

struct PolicyAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add entries to a list.",
        discussion: """
            ENTRY: example.com (the domain and its subdomains), host:www.example.com (that host \
            only), example.com/path or url:… (a squidGuard URL), regex:PATTERN (POSIX extended, \
            matched against the whole URL).
            """)

    @OptionGroup var store: PolicyStoreOptions

    @Argument(help: "The list (the starter lists are 'deny' and 'allow').")
    var list: String

    @Argument(help: "Entries to add.")
    var entries: [String]

    @Option(help: "A comment kept with the entries.")
    var comment: String?

    func run() throws {
        let store = try self.store.openStore()
        let result = try storeOperation { () throws(PolicyStoreError) in
            try store.addEntries(self.entries, to: self.list, comment: self.comment, actor: self.store.actorName)
        }
        print("\(self.list): \(result.changed) added, \(result.unchanged) already there")
    }
}

struct PolicyRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove entries from a list.")

    @OptionGroup var store: PolicyStoreOptions

    @Argument(help: "The list.")
    var list: String

    @Argument(help: "Entries to remove, written as for 'add'.")
    var entries: [String]

    func run() throws {
        let store = try self.store.openStore()
        let result = try storeOperation { () throws(PolicyStoreError) in
            try store.removeEntries(self.entries, from: self.list, actor: self.store.actorName)
        }
        print("\(self.list): \(result.changed) removed, \(result.unchanged) not there")
    }
}

struct PolicyAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Print the latest changes.")

    @OptionGroup var store: PolicyStoreOptions

    @Option(help: "How many changes.")
    var limit: Int = 20

    func run() throws {
        let store = try self.store.openStore()
        for entry in try storeOperation({ () throws(PolicyStoreError) in try store.audit(limit: self.limit) }) {
            print("\(entry.at)\t\(entry.actor)\t\(entry.action)\t\(entry.detail)")
        }
    }
}
