import Foundation
import GRDB

/// A list as the admin UI and `portcullis policy lists` show it.
public struct ListSummary: Sendable, Hashable {
    public let name: String
    public let kind: ListKind
    public let category: String
    public let source: String
    public let enabled: Bool
    /// Entries per kind.
    public let counts: [EntryKind: Int]
    public var total: Int { self.counts.values.reduce(0, +) }
}

/// Whether a list names what to let through or what to stop. Rules decide what happens; the
/// kind is what an imported or new list's rule does by default.
public enum ListKind: String, Sendable, Hashable, CaseIterable {
    case allow, deny
}

/// What an edit of a list did.
public struct ListEditResult: Sendable, Hashable {
    /// Entries added or removed.
    public var changed: Int = 0
    /// Entries that were already there (add) or were not there (remove).
    public var unchanged: Int = 0
}

extension EntryKind {
    /// The stored code.
    var code: Int {
        switch self {
        case .domain: 0
        case .host: 1
        case .url: 2
        case .regex: 3
        }
    }

    init?(code: Int) {
        switch code {
        case 0: self = .domain
        case 1: self = .host
        case 2: self = .url
        case 3: self = .regex
        default: return nil
        }
    }
}

extension PolicyStore {
    public func lists() throws(PolicyStoreError) -> [ListSummary] {
        try self.read { db in
            var counts: [Int64: [EntryKind: Int]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT list_id, kind, COUNT(*) AS n FROM entries GROUP BY list_id, kind")
            {
                guard let kind = EntryKind(code: row["kind"]) else { continue }
                counts[row["list_id"], default: [:]][kind] = row["n"]
            }
            return try Row.fetchAll(
                db, sql: "SELECT id, name, kind, category, source, enabled FROM lists ORDER BY name"
            ).map { row in
                ListSummary(
                    name: row["name"], kind: ListKind(rawValue: row["kind"]) ?? .deny, category: row["category"],
                    source: row["source"], enabled: row["enabled"], counts: counts[row["id"]] ?? [:])
            }
        }
    }

    /// Creates a list (a `deny` list unless said otherwise).
    public func createList(
        _ name: String, kind: ListKind = .deny, category: String? = nil, actor: String
    ) throws(PolicyStoreError) {
        try Self.validateName(name, field: "list")
        try self.change(actor: actor, action: "create list", detail: { _ in "\(name) (\(kind.rawValue))" }) { db in
            guard try Self.listID(db, name) == nil else { throw PolicyStoreError.conflict("the list '\(name)' exists") }
            try db.execute(
                sql: "INSERT INTO lists (name, kind, category, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, kind.rawValue, category ?? name, Int64(Date().timeIntervalSince1970)])
        }
    }

    public func setListEnabled(_ name: String, _ enabled: Bool, actor: String) throws(PolicyStoreError) {
        try self.change(actor: actor, action: enabled ? "enable list" : "disable list", detail: { _ in name }) { db in
            let id = try Self.requireList(db, name)
            try db.execute(sql: "UPDATE lists SET enabled = ? WHERE id = ?", arguments: [enabled, id])
        }
    }

    public func deleteList(_ name: String, actor: String) throws(PolicyStoreError) {
        try self.change(actor: actor, action: "delete list", detail: { _ in name }) { db in
            let id = try Self.requireList(db, name)
            try db.execute(sql: "DELETE FROM lists WHERE id = ?", arguments: [id])
        }
    }

    /// Adds entries (each parsed by `EntryText`) to a list. Nothing is added if one is invalid:
    /// the error names it.
    public func addEntries(
        _ texts: [String], to list: String, comment: String? = nil, actor: String
    ) throws(PolicyStoreError) -> ListEditResult {
        let entries = try Self.parseEntries(texts)
        let now = Int64(Date().timeIntervalSince1970)
        return try self.change(
            actor: actor, action: "add entries",
            detail: { (result: ListEditResult) in
                "\(list): \(entries.map(\.description).joined(separator: " ")) (\(result.changed) new)"
            }
        ) { db in
            let id = try Self.requireList(db, list)
            var result = ListEditResult()
            let statement = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO entries (list_id, kind, value, comment, added_at) VALUES (?, ?, ?, ?, ?)")
            for entry in entries {
                try statement.execute(arguments: [id, entry.kind.code, entry.value, comment, now])
                if db.changesCount > 0 { result.changed += 1 } else { result.unchanged += 1 }
            }
            return result
        }
    }

    public func removeEntries(
        _ texts: [String], from list: String, actor: String
    ) throws(PolicyStoreError)
        -> ListEditResult
    {
        let entries = try Self.parseEntries(texts)
        return try self.change(
            actor: actor, action: "remove entries",
            detail: { (result: ListEditResult) in
                "\(list): \(entries.map(\.description).joined(separator: " ")) (\(result.changed) removed)"
            }
        ) { db in
            let id = try Self.requireList(db, list)
            var result = ListEditResult()
            for entry in entries {
                try db.execute(
                    sql: "DELETE FROM entries WHERE list_id = ? AND kind = ? AND value = ?",
                    arguments: [id, entry.kind.code, entry.value])
                if db.changesCount > 0 { result.changed += 1 } else { result.unchanged += 1 }
            }
            return result
        }
    }

    /// Entries of a list, in stored order, from `offset` (the admin UI pages through them).
    public func entries(of list: String, offset: Int = 0, limit: Int = 100) throws(PolicyStoreError) -> [EntryText] {
        try self.read { db in
            let id = try Self.requireList(db, list)
            return try Row.fetchAll(
                db, sql: "SELECT kind, value FROM entries WHERE list_id = ? ORDER BY kind, value LIMIT ? OFFSET ?",
                arguments: [id, limit, offset]
            ).compactMap { row in EntryKind(code: row["kind"]).map { EntryText(kind: $0, value: row["value"]) } }
        }
    }

    /// Every text parsed, or the first refusal.
    private static func parseEntries(_ texts: [String]) throws(PolicyStoreError) -> [EntryText] {
        var entries: [EntryText] = []
        for text in texts {
            do { entries.append(try EntryText(parsing: text)) } catch { throw .invalid(error) }
        }
        return entries
    }

    static func listID(_ db: Database, _ name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM lists WHERE name = ?", arguments: [name])
    }

    static func requireList(_ db: Database, _ name: String) throws -> Int64 {
        guard let id = try Self.listID(db, name) else { throw PolicyStoreError.notFound("list", name) }
        return id
    }

    static func validateName(_ name: String, field: String) throws(PolicyStoreError) {
        guard !name.isEmpty, name.count <= 200, !name.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw .invalid(PolicyInputError(field: field, value: name, problem: "names are 1…200 characters, one line"))
        }
    }
}

extension PolicyStore {
    /// Up to `count` domain entries spread over the store (benchmarks).
    public func sampleDomains(_ count: Int) throws(PolicyStoreError) -> [String] {
        try self.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM entries WHERE kind = 0") ?? 0
            let step = max(1, total / max(1, count))
            var sample: [String] = []
            var index = 0
            let cursor = try String.fetchCursor(db, sql: "SELECT value FROM entries WHERE kind = 0")
            while let value = try cursor.next(), sample.count < count {
                if index % step == 0 { sample.append(value) }
                index += 1
            }
            return sample
        }
    }
}
