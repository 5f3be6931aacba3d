import ArgumentParser
import Foundation
import Policy

struct PolicyTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Show the verdict for a URL and why (group, rule, list, entry, schedule).")

    @OptionGroup var store: PolicyStoreOptions

    @Argument(help: "A URL (http://example.com/path) or a CONNECT target (example.com:443).")
    var url: String

    @Option(help: "The client's address. Default: 127.0.0.1.")
    var client: String = "127.0.0.1"

    @Option(help: "The user name, for groups of users.")
    var user: String?

    @Option(help: "The moment to decide at, YYYY-MM-DDTHH:MM in the policy's time zone. Default: now.")
    var at: String?

    func run() throws {
        let store = try self.store.openStore()
        let snapshot = try storeOperation { () throws(PolicyStoreError) in try SnapshotCompiler.compile(store) }
        guard let address = IPAddress128(parsing: self.client) else {
            try Self.refuse("--client '\(self.client)' is not an IP address")
        }
        let facts: RequestFacts
        do {
            facts = try RequestFacts(url: self.url, client: address, user: self.user)
        } catch {
            try Self.refuse(error.description)
        }
        var time = Date()
        if let at = self.at {
            do {
                time = try snapshot.localTime(parsing: at)
            } catch {
                try Self.refuse("--at '\(at)': \(error.problem)")
            }
        }
        let trace = snapshot.explain(facts, at: time)
        print("verdict:  \(trace.verdict)")
        print("url:      \(facts.url)")
        print("group:    \(trace.group)")
        print("rule:     \(trace.rulePosition.map { "\($0) (id \(trace.rule!))" } ?? "none: the group's default")")
        print("list:     \(trace.list.map { "\($0) (category \(trace.category ?? ""))" } ?? "-")")
        print("entry:    \(trace.entry ?? "-")")
        print("schedule: \(trace.schedule ?? "-")")
    }
}
