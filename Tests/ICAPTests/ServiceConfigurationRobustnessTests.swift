import TestSupport
import Testing

@testable import ICAP

/// `--icap-service` lines changed at random (seeded): each is refused with a message that
/// quotes it, or reads back, from its own description, as the same service.
struct ServiceConfigurationRobustnessTests {
    private static let mutator = ByteMutator(interesting: " \t=:/[]%.0123456789-icapreqmodbypassnamepreview")

    /// The description, with the name when it is not the default one (the URL as written).
    private static func text(_ service: ICAPServiceConfiguration) -> String {
        service.description + (service.name == service.url ? "" : " name=\(service.name)")
    }

    @Test func mutatedServiceLinesParseOrAreRefusedAndReadBack() {
        let seeds = [
            "reqmod icap://127.0.0.1:1344/echo", "respmod icap://[::1]:11344/srv_echo bypass=on preview=1024",
            "REQMOD icap://icap.example/filter name=school bypass=off preview=0",
        ]
        let failures = RoundTrip.failures(
            seeds, seed: 0x1CA9, mutations: 600, mutator: Self.mutator, parse: ICAPServiceConfiguration.init(parsing:),
            text: Self.text)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func everyRefusalQuotesTheLine() {
        let failures = RoundTrip.refusalsNotQuoting(
            "respmod icap://[::1]:11344/srv_echo bypass=on preview=1024", seed: 0x344, mutator: Self.mutator,
            parse: ICAPServiceConfiguration.init(parsing:))
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}
