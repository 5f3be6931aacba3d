import ArgumentParser
import Policy

struct PolicyRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rule", abstract: "Add, list or remove the rules of a group.",
        subcommands: [Add.self, Show.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a rule at the end of a group's rules (first match wins). Creates the list if missing.")

        @OptionGroup var store: PolicyStoreOptions

        @Option(help: "The group. Default: Default.")
        var group: String = "Default"

        @Option(help: "The list the rule is about.")
        var list: String

        @Option(help: "deny, allow, redirect=URL (%a %u %t %s substituted) or intercept=HOST[:PORT].")
        var action: String

        @Option(help: "Only while this schedule is active.")
        var schedule: String?

        @Option(help: "Position among the group's rules (1 = first). Default: last.")
        var position: Int?

        func run() throws {
            let store = try self.store.openStore()
            let action: RuleAction
            do { action = try RuleAction(parsing: self.action) } catch { try Self.refuse(error.description) }
            let lists = try storeOperation { () throws(PolicyStoreError) in try store.lists() }
            if !lists.contains(where: { $0.name == self.list }) {
                try storeOperation { () throws(PolicyStoreError) in
                    try store.createList(
                        self.list, kind: action == .allow ? .allow : .deny, actor: self.store.actorName)
                }
            }
            let id = try storeOperation { () throws(PolicyStoreError) in
                try store.addRule(
                    group: self.group, list: self.list, action: action, schedule: self.schedule,
                    position: self.position, actor: self.store.actorName)
            }
            print("rule \(id) added to \(self.group): \(self.list) → \(action)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print groups and their rules.")

        @OptionGroup var store: PolicyStoreOptions

        func run() throws {
            let store = try self.store.openStore()
            for group in try storeOperation({ () throws(PolicyStoreError) in try store.groups() }) {
                let members = group.networks + group.users.map { "user:\($0)" }
                print(
                    "group \(group.name)\(group.isDefault ? " (default)" : "")"
                        + (members.isEmpty ? "" : " members: \(members.joined(separator: " "))")
                        + " otherwise: \(group.defaultAction.rawValue)")
                for rule in group.rules {
                    print(
                        "  \(rule.position). [id \(rule.id)] \(rule.list) → \(rule.action)"
                            + (rule.schedule.map { " during \($0)" } ?? ""))
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a rule by its id (see 'rule list').")

        @OptionGroup var store: PolicyStoreOptions

        @Argument(help: "The rule's id.")
        var id: Int64

        func run() throws {
            let store = try self.store.openStore()
            try storeOperation { () throws(PolicyStoreError) in
                try store.removeRule(id: self.id, actor: self.store.actorName)
            }
            print("rule \(self.id) removed")
        }
    }
}

struct PolicyGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Add a group of clients (ahead of the Default group).",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        @OptionGroup var store: PolicyStoreOptions

        @Argument(help: "The group's name.")
        var name: String

        @Option(name: .customLong("member"), help: "An address or CIDR, or user:NAME; repeatable.")
        var members: [String] = []

        @Option(help: "What happens when no rule matches: allow or deny. Default: allow.")
        var otherwise: String = "allow"

        func run() throws {
            let store = try self.store.openStore()
            guard let kind = ListKind(rawValue: self.otherwise) else {
                try Self.refuse("--otherwise must be allow or deny")
            }
            try storeOperation { () throws(PolicyStoreError) in
                try store.addGroup(self.name, members: self.members, defaultAction: kind, actor: self.store.actorName)
            }
            print("group \(self.name) added")
        }
    }
}

struct PolicyScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Create or replace a schedule for rules.", subcommands: [Set.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            discussion: """
                Active when inside one of its windows (if any), inside one of its --within ranges \
                (if any), and inside none of its --except ranges.
                """)

        @OptionGroup var store: PolicyStoreOptions

        @Argument(help: "The schedule's name.")
        var name: String

        @Option(name: .customLong("window"), help: "'DAYS HH:MM-HH:MM', e.g. 'mon-fri 08:00-16:00'; repeatable.")
        var windows: [String] = []

        @Option(name: .customLong("within"), help: "A term: YYYY-MM-DD..YYYY-MM-DD; repeatable.")
        var within: [String] = []

        @Option(name: .customLong("except"), help: "A holiday: YYYY-MM-DD[..YYYY-MM-DD]; repeatable.")
        var except: [String] = []

        @Option(help: "Time zone of every schedule (IANA name, e.g. Europe/Paris).")
        var timezone: String?

        func run() throws {
            let store = try self.store.openStore()
            var schedule = Policy.Schedule(name: self.name)
            do {
                schedule.windows = try self.windows.map { text throws(PolicyInputError) in
                    try WeeklyWindow(parsing: text)
                }
                schedule.dates =
                    try self.within.map { text throws(PolicyInputError) in try DateRange(parsing: text, mode: .within) }
                    + self.except.map { text throws(PolicyInputError) in try DateRange(parsing: text, mode: .except) }
            } catch {
                try Self.refuse(error.description)
            }
            if let timezone = self.timezone {
                try storeOperation { () throws(PolicyStoreError) in
                    try store.setTimeZone(timezone, actor: self.store.actorName)
                }
            }
            try storeOperation { () throws(PolicyStoreError) in
                try store.setSchedule(schedule, actor: self.store.actorName)
            }
            print("schedule \(self.name) set")
        }
    }
}
