import Foundation
import GRDB
import GRDBSQLite

/// What an import did, list by list.
public struct ImportReport: Sendable {
    public struct ListResult: Sendable {
        public let name: String
        public let category: String
        public let source: String
        /// Entries now in the list from this import.
        public let entries: Int
        public let duplicates: Int
        public let unsupported: Int
        /// Bad lines (all of them counted; the first ones kept in `problems`).
        public let problemCount: Int
        public let problems: [ImportProblem]
    }

    public var lists: [ListResult] = []
    /// Deny rules added to the Default group (`--deny`).
    public var rulesAdded: [String] = []
    public var entries: Int { self.lists.reduce(0) { $0 + $1.entries } }
    public var problemCount: Int { self.lists.reduce(0) { $0 + $1.problemCount } }
}

extension PolicyStore {
    /// Imports every list of `source` in one transaction: all of it, or nothing (a crash or a
    /// kill half-way leaves the database as it was). A list that exists is refreshed: the
    /// entries of earlier imports are replaced, entries added by hand are kept. With
    /// `denyForEveryone`, the Default group gets a deny rule for each imported list that has
    /// no rule there yet.
    public func importLists(
        from source: ImportSource, kind: ListKind = .deny, denyForEveryone: Bool = false, actor: String
    ) throws(PolicyStoreError) -> ImportReport {
        let now = Int64(Date().timeIntervalSince1970)
        return try self.change(
            actor: actor, action: "import",
            detail: { (report: ImportReport) in
                "\(source.path): \(report.lists.count) lists, \(report.entries) entries, "
                    + "\(report.problemCount) bad lines" + (report.rulesAdded.isEmpty ? "" : ", deny rules added")
            }
        ) { db in
            // A bigger page cache keeps the B-tree of a multi-million-entry import in memory.
            try db.execute(sql: "PRAGMA cache_size = -262144")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            try db.execute(
                sql: "INSERT INTO sources (path, imported_at, actor) VALUES (?, ?, ?)",
                arguments: [source.path, now, actor])
            let sourceID = db.lastInsertedRowID
            var report = ImportReport()
            let insert = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO entries (list_id, kind, value, added_at, source_id) VALUES (?, ?, ?, ?, ?)")
            for file in source.files {
                var list: ImportedList
                do {
                    list = try source.read(file)
                } catch {
                    throw PolicyStoreError.invalid(
                        PolicyInputError(field: "import", value: file.source, problem: "\(error)"))
                }
                let listID = try Self.importTarget(db, list: list, kind: kind, now: now)
                try db.execute(
                    sql: "DELETE FROM entries WHERE list_id = ? AND source_id IS NOT NULL", arguments: [listID])
                // In key order, so the B-tree grows by appending.
                list.values.sort()
                let added = try Self.insert(
                    list.values, statement: insert, listID: listID, kind: list.kind.code, now: now, sourceID: sourceID)
                report.lists.append(
                    .init(
                        name: list.name, category: list.category, source: list.source, entries: added,
                        duplicates: list.duplicates, unsupported: list.unsupported, problemCount: list.problemCount,
                        problems: list.problems))
                if denyForEveryone, try Self.addDefaultRuleIfMissing(db, listID: listID, action: kind) {
                    report.rulesAdded.append(list.name)
                }
            }
            return report
        }
    }

    /// The list an imported file goes to, created if needed.
    private static func importTarget(_ db: Database, list: ImportedList, kind: ListKind, now: Int64) throws -> Int64 {
        if let id = try Self.listID(db, list.name) {
            try db.execute(
                sql: "UPDATE lists SET source = ?, category = ? WHERE id = ?",
                arguments: [list.source, list.category, id])
            return id
        }
        try db.execute(
            sql: "INSERT INTO lists (name, kind, category, source, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [list.name, kind.rawValue, list.category, list.source, now])
        return db.lastInsertedRowID
    }

    /// Binds straight from each string's bytes (no copies), step, reset: the import's inner loop.
    private static func insert(
        _ values: [String], statement: Statement, listID: Int64, kind: Int, now: Int64, sourceID: Int64
    ) throws -> Int {
        let sqlite = statement.sqliteStatement
        sqlite3_bind_int64(sqlite, 1, listID)
        sqlite3_bind_int64(sqlite, 2, Int64(kind))
        sqlite3_bind_int64(sqlite, 4, now)
        sqlite3_bind_int64(sqlite, 5, sourceID)
        var added = 0
        for var value in values {
            let status = value.withUTF8 { bytes -> Int32 in
                sqlite3_bind_text(
                    sqlite, 3, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                    Int32(bytes.count), nil)
                defer { sqlite3_reset(sqlite) }
                return sqlite3_step(sqlite)
            }
            guard status == SQLITE_DONE else { throw DatabaseError(resultCode: ResultCode(rawValue: status)) }
            added += Int(sqlite3_changes(sqlite3_db_handle(sqlite)))
        }
        sqlite3_clear_bindings(sqlite)
        return added
    }

    private static func addDefaultRuleIfMissing(_ db: Database, listID: Int64, action: ListKind) throws -> Bool {
        let group = try Int64.fetchOne(db, sql: "SELECT id FROM groups WHERE is_default = 1") ?? 1
        let exists = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM rules WHERE group_id = ? AND list_id = ?)",
            arguments: [group, listID])
        guard exists != true else { return false }
        let last =
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(MAX(position), 0) FROM rules WHERE group_id = ?", arguments: [group]) ?? 0
        try db.execute(
            sql: "INSERT INTO rules (group_id, position, list_id, action) VALUES (?, ?, ?, ?)",
            arguments: [group, last + 1, listID, action.rawValue])
        return true
    }
}
