import ArgumentParser

@main
struct Portcullis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis",
        abstract: "A fast content-filtering HTTP proxy.",
        discussion: """
            Portcullis forwards HTTP/1.x and HTTPS CONNECT for the clients of a school or office. \
            With no subcommand it runs the proxy ('portcullis run'); the settings below may be \
            given to either.
            """ + "\n\n" + RunCommand.settingsHelp,
        subcommands: [RunCommand.self, PolicyCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
