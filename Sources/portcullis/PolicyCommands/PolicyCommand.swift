import ArgumentParser
import Foundation
import Policy

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract:
            "Read and edit the filtering policy (safe while the proxy runs; it picks changes up within a second).",
        subcommands: [
            PolicyTestCommand.self, PolicyListsCommand.self, PolicyAddCommand.self, PolicyRemoveCommand.self,
            PolicyImportCommand.self, PolicyRuleCommand.self, PolicyGroupCommand.self, PolicyScheduleCommand.self,
            PolicyAuditCommand.self, PolicyBenchmarkCommand.self,
        ]
    )
}

/// Where the database is and who is making the change.
struct PolicyStoreOptions: ParsableArguments {
    @Option(help: "The proxy's data directory (holds portcullis.db). Default: $PORTCULLIS_DATA_DIR or ./var.")
    var dataDir: String?

    @Option(help: "Who the audit trail names for this change. Default: $USER.")
    var actor: String?

    var actorName: String { self.actor ?? ProcessInfo.processInfo.environment["USER"] ?? "cli" }

    func openStore() throws -> PolicyStore {
        let directory = self.dataDir ?? ProcessInfo.processInfo.environment["PORTCULLIS_DATA_DIR"] ?? "./var"
        do {
            return try PolicyStore.open(dataDirectory: directory)
        } catch {
            throw CommandFailure(description: error.description)
        }
    }
}

/// Runs a store operation, turning its refusal into a one-line error and exit status 1.
func storeOperation<T>(_ body: () throws(PolicyStoreError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw CommandFailure(description: error.description)
    }
}

/// A refusal worth one line on standard error (no usage text) and exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}
