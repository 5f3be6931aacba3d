import ArgumentParser
import Foundation
import Policy

#if canImport(Glibc)
    import Glibc
#endif

/// Measures the policy the way bench/policy.sh reports it: compile time, memory per entry,
/// decisions per second on one core. A measurement for people, never a test.
struct PolicyBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure this policy: snapshot compile time, memory per entry, decisions per second (one core).")

    @OptionGroup var store: PolicyStoreOptions

    @Option(help: "Seconds of decisions to run (at most 3600).")
    var seconds: Double = 5

    @Option(help: "Distinct request hosts to cycle through, half of them on a list, as subdomains (2 to 10000000).")
    var hosts: Int = 200_000

    /// The limits keep the run's arithmetic in range (an unbounded `--seconds` overflowed the
    /// deadline and stopped the process) and its host table in memory.
    static let maxSeconds: Double = 3600
    static let hostLimits = 2...10_000_000

    func validate() throws {
        guard self.seconds.isFinite, self.seconds > 0, self.seconds <= Self.maxSeconds else {
            throw ValidationError("--seconds must be over 0 and at most 3600, not \(self.seconds)")
        }
        guard Self.hostLimits.contains(self.hosts) else {
            throw ValidationError("--hosts must be from 2 to 10000000, not \(self.hosts)")
        }
    }

    func run() throws {
        let store = try self.store.openStore()
        let baseline = Self.residentBytes()
        let started = ContinuousClock.now
        let snapshot = try storeOperation { () throws(PolicyStoreError) in try SnapshotCompiler.compile(store) }
        let compileSeconds = Self.seconds(ContinuousClock.now - started)
        let grown = Self.residentBytes() - baseline
        print("entries compiled:     \(snapshot.entryCount)")
        print("compile:              " + String(format: "%.2f s", compileSeconds))
        print("RSS growth:           \(grown / 1_048_576) MiB")
        if snapshot.entryCount > 0 {
            print(
                "bytes per entry:      "
                    + String(
                        format: "%.1f (RSS), %.1f (tables)",
                        Double(grown) / Double(snapshot.entryCount),
                        Double(snapshot.tableBytes) / Double(snapshot.entryCount)))
        }

        let listed = try storeOperation { () throws(PolicyStoreError) in try store.sampleDomains(self.hosts / 2) }
        var facts: [RequestFacts] = []
        facts.reserveCapacity(self.hosts)
        let client = IPAddress128(parsing: "10.0.0.7")
        for (index, domain) in listed.enumerated() {
            facts.append(
                RequestFacts(scheme: "http", host: "www.\(domain)", port: 80, path: "/index.html", client: client))
            facts.append(
                RequestFacts(
                    scheme: "http", host: "cdn\(index).unlisted-example\(index % 97).org", port: 80, path: "/app.js",
                    client: client))
        }
        guard !facts.isEmpty else {
            print("no domain entries to sample: import some lists first")
            return
        }
        let now = Date()
        var blocked = 0
        var decisions = 0
        let deadline = ContinuousClock.now + .milliseconds(Int(self.seconds * 1000))
        let decideStart = ContinuousClock.now
        while ContinuousClock.now < deadline {
            for _ in 0..<10 {
                for fact in facts where snapshot.decide(fact, at: now).isBlocked { blocked += 1 }
                decisions += facts.count
            }
        }
        let decideSeconds = Self.seconds(ContinuousClock.now - decideStart)
        print(
            "decisions:            \(decisions) over \(facts.count) hosts, \(blocked * 100 / max(1, decisions))% blocked"
        )
        print("decisions per second: " + String(format: "%.0f (one thread)", Double(decisions) / decideSeconds))
        print("per decision:         " + String(format: "%.0f ns", decideSeconds * 1e9 / Double(decisions)))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Resident memory, after handing freed heap back to the system.
    private static func residentBytes() -> Int {
        _ = releaseFreeHeap(0)
        // Not Foundation's whole-file readers: /proc files say they are empty, and those leak a
        // buffer for every such file (the figure measured here would carry it).
        guard let bytes = try? FileContents.bytes(of: "/proc/self/statm") else { return 0 }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}

/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func releaseFreeHeap(_ pad: Int) -> Int32
