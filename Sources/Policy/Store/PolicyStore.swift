import Foundation
import GRDB

/// The policy database: lists, groups, rules, schedules, page templates and the audit trail,
/// in SQLite through GRDB. Every change is one transaction that also records who made it and
/// bumps the policy generation, which the running proxy watches to reload its snapshot.
///
/// Several processes may use the same file at once (the proxy, `portcullis policy …`): the
/// database runs in WAL mode, writers wait for each other (busy timeout), and readers never
/// block writers.
public struct PolicyStore: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating and migrating if needed) `<dataDirectory>/portcullis.db`. The default
    /// page templates are seeded by `seedPages(from:)`, which says what it could not seed.
    public static func open(dataDirectory: String) throws(PolicyStoreError) -> PolicyStore {
        let path = dataDirectory + "/portcullis.db"
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let store: PolicyStore
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            store = PolicyStore(writer: try DatabasePool(path: path, configuration: configuration))
        } catch {
            throw .unusable(path: path, String(describing: error))
        }
        try store.migrate(path: path)
        return store
    }

    /// A private in-memory database (tests, dry runs), seeded from `pagesDirectory` if given
    /// (what cannot be seeded is left out: tests check the shipped pages on their own).
    public static func inMemory(pagesDirectory: String? = nil) throws(PolicyStoreError) -> PolicyStore {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        let store: PolicyStore
        do {
            store = PolicyStore(writer: try DatabaseQueue(configuration: configuration))
        } catch {
            throw .unusable(path: ":memory:", String(describing: error))
        }
        try store.migrate(path: ":memory:")
        if let pagesDirectory { try store.seedPages(from: pagesDirectory) }
        return store
    }

    private func migrate(path: String) throws(PolicyStoreError) {
        do {
            try PolicyMigrations.migrator.migrate(self.writer)
        } catch {
            throw .unusable(path: path, String(describing: error))
        }
    }

    /// The policy generation: it grows with every committed change.
    public func generation() throws(PolicyStoreError) -> Int64 {
        try self.read { db in
            try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'generation'") ?? 0
        }
    }

    /// Runs `change` in one write transaction, records it in the audit trail and bumps the
    /// generation: all of it commits, or none of it.
    func change<T>(
        actor: String, action: String, detail: @escaping (T) -> String, _ change: @escaping (Database) throws -> T
    ) throws(PolicyStoreError) -> T {
        do {
            return try self.writer.write { db in
                let result = try change(db)
                try Self.recordChange(db, actor: actor, action: action, detail: detail(result))
                return result
            }
        } catch let error as PolicyInputError {
            throw .invalid(error)
        } catch let error as PolicyStoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    static func recordChange(_ db: Database, actor: String, action: String, detail: String) throws {
        try db.execute(
            sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
            arguments: [Int64(Date().timeIntervalSince1970), actor, action, detail])
        try db.execute(
            sql: "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    }

    func read<T>(_ body: (Database) throws -> T) throws(PolicyStoreError) -> T {
        do {
            return try self.writer.read(body)
        } catch let error as PolicyStoreError {
            throw error
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// The most recent changes, newest first.
    public func audit(limit: Int = 100) throws(PolicyStoreError) -> [AuditEntry] {
        try self.read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]
            ).map {
                AuditEntry(
                    at: Date(timeIntervalSince1970: TimeInterval($0["at"] as Int64)), actor: $0["actor"],
                    action: $0["action"], detail: $0["detail"])
            }
        }
    }

    /// The time zone schedules are read in (an IANA name); `nil`: the system's.
    public func timeZoneName() throws(PolicyStoreError) -> String? {
        try self.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'timezone'") }
    }

    public func setTimeZone(_ name: String, actor: String) throws(PolicyStoreError) {
        guard TimeZone(identifier: name) != nil else {
            throw .invalid(PolicyInputError(field: "timezone", value: name, problem: "not a known time zone"))
        }
        try self.change(actor: actor, action: "set timezone", detail: { _ in name }) { db in
            try db.execute(
                sql: "INSERT INTO settings (key, value) VALUES ('timezone', ?) "
                    + "ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [name])
        }
    }
}

/// One change in the audit trail.
public struct AuditEntry: Sendable, Hashable {
    public let at: Date
    public let actor: String
    public let action: String
    public let detail: String
}
