import Foundation
import GRDB
import GRDBSQLite

/// Reads the store (one read transaction: a consistent view, never blocking writers) and
/// compiles a `PolicySnapshot`. Runs off the event loops; a failure leaves the caller's
/// current snapshot in place and says why.
public enum SnapshotCompiler {
    public static func compile(_ store: PolicyStore) throws(PolicyStoreError) -> PolicySnapshot {
        try store.read { db in try Self.compile(db) }
    }

    static func compile(_ db: Database) throws -> PolicySnapshot {
        let generation =
            try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'generation'") ?? 0
        let timeZoneName = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'timezone'")
        let timeZone = timeZoneName.flatMap(TimeZone.init(identifier:)) ?? TimeZone.current

        // Lists that some rule uses and that are enabled: only those can change a decision.
        var listIndex: [Int64: Int] = [:]
        var lists: [CompiledList] = []
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT id, name, kind, category FROM lists
                WHERE enabled = 1 AND id IN (SELECT list_id FROM rules) ORDER BY id
                """)
        {
            listIndex[row["id"]] = lists.count
            lists.append(
                CompiledList(
                    name: row["name"], kind: ListKind(rawValue: row["kind"]) ?? .deny, category: row["category"]))
        }
        guard lists.count < Int(PolicySnapshot.hostOnlyFlag) else {
            throw PolicyStoreError.conflict("more than \(PolicySnapshot.hostOnlyFlag - 1) lists in rules")
        }

        let schedules = try Self.schedules(db)
        let entries = try Self.entries(db, listIndex: listIndex, listCount: lists.count)
        let groups = try Self.groups(
            db, listIndex: listIndex, listCount: lists.count, scheduleIndex: schedules.index,
            regexLists: Set(entries.regexes.indices.filter { !entries.regexes[$0].isEmpty }),
            urlLists: entries.urlLists, lists: lists)

        var templates: [PageTemplate] = []
        for row in try Row.fetchAll(db, sql: "SELECT name, body FROM pages ORDER BY name") {
            // Refused on the way in; one that no longer compiles falls back to the built-in page.
            if let template = try? PageTemplate(name: row["name"], source: row["body"]) { templates.append(template) }
        }
        return PolicySnapshot(
            generation: generation, lists: lists, names: entries.names, urls: entries.urls,
            regexes: RegexBank(patterns: entries.regexes), groups: groups, schedules: schedules.list,
            timeZone: timeZone, pages: PageCatalog(templates: templates), entryCount: entries.count)
    }

    private struct Entries {
        var names: NameTable
        var urls: NameTable
        var regexes: [[String]]
        var urlLists: Set<Int>
        var count: Int
    }

    /// Streams every entry of the compiled lists straight from SQLite's buffers into the
    /// table builders (no string per row).
    private static func entries(_ db: Database, listIndex: [Int64: Int], listCount: Int) throws -> Entries {
        let expected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM entries WHERE kind < 2") ?? 0
        var names = NameTable.Builder(expected: expected)
        var urls = NameTable.Builder()
        var regexes = [[String]](repeating: [], count: listCount)
        var urlLists = Set<Int>()
        var count = 0
        let statement = try db.makeStatement(sql: "SELECT list_id, kind, value FROM entries")
        let sqlite = statement.sqliteStatement
        var listIDToIndex = listIndex
        listIDToIndex.reserveCapacity(listIndex.count)
        while true {
            let status = sqlite3_step(sqlite)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: status)) }
            guard let list = listIDToIndex[sqlite3_column_int64(sqlite, 0)] else { continue }
            let kind = EntryKind(code: Int(sqlite3_column_int(sqlite, 1)))
            guard let text = sqlite3_column_text(sqlite, 2) else { continue }
            let length = Int(sqlite3_column_bytes(sqlite, 2))
            let value = UnsafeRawBufferPointer(start: text, count: length)
            switch kind {
            case .domain?:
                if names.add(key: value, tag: UInt16(list)) { count += 1 }
            case .host?:
                if names.add(key: value, tag: UInt16(list) | PolicySnapshot.hostOnlyFlag) { count += 1 }
            case .url?:
                let slash = value.firstIndex(of: UInt8(ascii: "/")) ?? value.count
                if urls.add(
                    key: UnsafeRawBufferPointer(rebasing: value[0..<slash]), tag: UInt16(list),
                    payload: UnsafeRawBufferPointer(rebasing: value[slash...]))
                {
                    urlLists.insert(list)
                    count += 1
                }
            case .regex?:
                regexes[list].append(String(decoding: value, as: UTF8.self))
                count += 1
            case nil:
                continue
            }
        }
        sqlite3_reset(sqlite)
        return Entries(names: names.build(), urls: urls.build(), regexes: regexes, urlLists: urlLists, count: count)
    }

    private static func schedules(_ db: Database) throws -> (list: [Schedule], index: [Int64: Int]) {
        var list: [Schedule] = []
        var index: [Int64: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM schedules ORDER BY id") {
            index[row["id"]] = list.count
            list.append(Schedule(name: row["name"]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM schedule_windows ORDER BY id") {
            guard let at = index[row["schedule_id"]] else { continue }
            list[at].windows.append(
                WeeklyWindow(
                    days: UInt8(row["days"] as Int), startMinute: row["start_minute"], endMinute: row["end_minute"]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM schedule_dates ORDER BY id") {
            guard let at = index[row["schedule_id"]], let mode = DateRange.Mode(rawValue: row["mode"]) else { continue }
            list[at].dates.append(DateRange(firstDay: row["first_day"], lastDay: row["last_day"], mode: mode))
        }
        return (list, index)
    }

    private static func groups(
        _ db: Database, listIndex: [Int64: Int], listCount: Int, scheduleIndex: [Int64: Int], regexLists: Set<Int>,
        urlLists: Set<Int>, lists: [CompiledList]
    ) throws -> [CompiledGroup] {
        let members = try Row.fetchAll(db, sql: "SELECT group_id, kind, value FROM group_members ORDER BY id")
        let rules = try Row.fetchAll(
            db, sql: "SELECT id, group_id, list_id, action, target, schedule_id FROM rules ORDER BY position, id")
        var groups: [CompiledGroup] = []
        for row in try Row.fetchAll(db, sql: "SELECT * FROM groups ORDER BY is_default, position, id") {
            let id: Int64 = row["id"]
            let name: String = row["name"]
            var networks: [IPNetwork] = []
            var users: Set<String> = []
            for member in members where member["group_id"] == id {
                if member["kind"] == "user" {
                    users.insert(member["value"])
                } else if let network = try? IPNetwork(parsing: member["value"] as String) {
                    networks.append(network)
                }
            }
            var compiled: [CompiledRule] = []
            var firstRuleByList = [Int32](repeating: -1, count: listCount)
            var lastRuleByList = [Int32](repeating: -1, count: listCount)
            var next: [Int32] = []
            var regexRules: [Int32] = []
            var usesURLs = false
            for rule in rules where rule["group_id"] == id {
                // A rule on a disabled list is skipped (its list matches nothing).
                guard let list = listIndex[rule["list_id"]] else { continue }
                let action = try RuleAction(name: rule["action"], target: rule["target"])
                let position = compiled.count + 1
                let scheduleID: Int64? = rule["schedule_id"]
                let schedule = scheduleID.flatMap { scheduleIndex[$0] }
                let index = Int32(compiled.count)
                compiled.append(
                    CompiledRule(
                        id: rule["id"], position: position, list: list, action: action, schedule: schedule,
                        logLabel: "\(action),group=\(name),rule=\(position),list=\(lists[list].name)"))
                next.append(-1)
                if firstRuleByList[list] < 0 {
                    firstRuleByList[list] = index
                } else {
                    next[Int(lastRuleByList[list])] = index
                }
                lastRuleByList[list] = index
                if regexLists.contains(list) { regexRules.append(index) }
                if urlLists.contains(list) { usesURLs = true }
            }
            let defaultAction: RuleAction = row["default_action"] == "deny" ? .deny : .allow
            groups.append(
                CompiledGroup(
                    name: name, networks: networks, users: users, defaultAction: defaultAction,
                    blockPage: row["block_page"], rules: compiled, firstRuleByList: firstRuleByList,
                    nextRuleOnSameList: next, regexRules: regexRules, usesURLs: usesURLs,
                    defaultLabel: "\(defaultAction),group=\(name),rule=default"))
        }
        return groups
    }
}
