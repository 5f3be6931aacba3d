import Proxy
import TestSupport
import Testing

/// `--listen` and `--icap-listen` values changed at random (seeded): each is refused with a
/// message that quotes it, or reads back, from its own description, as the same address.
struct HostAndPortRobustnessTests {
    private static let mutator = ByteMutator(interesting: "[]:.%_-0123456789abcdef")

    @Test func malformedAddressesAreRefusedSayingWhy() {
        for (text, problem) in [
            ("::1:3128", "in brackets"), ("[::1:3128", "missing ']'"), ("[::1]3128", "expected ':'"),
            ("127.0.0.1:0", "1…65535"), ("127.0.0.1:65536", "1…65535"), ("127.0.0.1:http", "1…65535"),
            (":3128", "empty"), ("127.0.0.1", "port is required"), ("b\u{FC}cher.example:80", "cannot have"),
            ("\u{BD}.example:80", "cannot have"), ("a b:80", "cannot have"),
        ] {
            do {
                _ = try HostAndPort(parsing: text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description == "invalid address '\(text)': \(error.problem)")
                #expect(error.problem.contains(problem), "\(text): \(error)")
            }
        }
    }

    @Test func mutatedAddressesParseOrAreRefusedAndReadBack() {
        let failures = RoundTrip.failures(
            ["127.0.0.1:3128", "[::1]:3128", "[fe80::1%eth0]:8080", "proxy.example.org:80", "0.0.0.0:1344"],
            seed: 0x3128, mutations: 600, mutator: Self.mutator,
            parse: { text throws(HostAndPortError) in try HostAndPort(parsing: text) }, text: \.description)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func everyRefusalQuotesTheValue() {
        let failures = RoundTrip.refusalsNotQuoting(
            "[fe80::1%eth0]:8080", seed: 0x1344, mutator: Self.mutator,
            parse: { text throws(HostAndPortError) in try HostAndPort(parsing: text) }, quoted: { "'\($0)'" })
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}
