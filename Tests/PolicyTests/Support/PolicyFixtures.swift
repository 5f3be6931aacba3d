import Foundation

@testable import Policy

/// The shipped page templates (seeded into test databases like on a fresh install).
let shippedPagesDirectory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("share/pages").path

/// A fresh in-memory store, seeded like a first start.
func freshStore() throws -> PolicyStore {
    try PolicyStore.inMemory(pagesDirectory: shippedPagesDirectory)
}

/// The facts of `url` from `client`.
func facts(_ url: String, client: String = "10.0.0.5", user: String? = nil) throws -> RequestFacts {
    try RequestFacts(url: url, client: IPAddress128(parsing: client), user: user)
}

extension PolicyStore {
    func snapshot() throws -> PolicySnapshot { try SnapshotCompiler.compile(self) }
}

extension PolicySnapshot {
    /// The verdict and trace for a URL at a time (default: a fixed Wednesday noon, UTC).
    func check(
        _ url: String, client: String = "10.0.0.5", user: String? = nil,
        at time: Date = Date(timeIntervalSince1970: 1_795_003_200)
    ) throws -> DecisionTrace {
        self.explain(try facts(url, client: client, user: user), at: time)
    }
}
