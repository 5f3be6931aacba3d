import ArgumentParser
import Foundation

extension ParsableCommand {
    /// Refuses the command line from inside `run()` as ArgumentParser refuses a bad flag while
    /// parsing: the message, this command's usage, exit status 64 (EX_USAGE). (A
    /// `ValidationError` thrown from `run()` would show the usage of the bare `portcullis`.)
    static func refuse(_ message: String) throws -> Never {
        let usage = Portcullis.usageString(for: Self.self)
        // The usage starts with the command's path, words of letters and hyphens, before its
        // arguments and options: `portcullis policy test <url> [--client <client>] …`.
        let path = usage.split(separator: " ")
            .prefix { $0.first?.isLetter == true && $0.allSatisfy { $0.isLetter || $0 == "-" } }
            .joined(separator: " ")
        FileHandle.standardError.write(
            Data("Error: \(message)\nUsage: \(usage)\n  See '\(path) --help' for more information.\n".utf8))
        throw ExitCode.validationFailure
    }
}
