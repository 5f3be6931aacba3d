import ArgumentParser
import Policy

struct PolicyImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import block lists (not yet available).")

    @OptionGroup var store: PolicyStoreOptions

    @Argument var path: String

    func run() throws { throw ValidationError("not yet") }
}
