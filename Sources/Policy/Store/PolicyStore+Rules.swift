import Foundation
import GRDB

/// A group as stored: who is in it, what happens when no rule matches, its rules in order.
public struct GroupSummary: Sendable, Hashable {
    public let name: String
    public let position: Int
    public let defaultAction: ListKind
    public let blockPage: String
    public let isDefault: Bool
    public let networks: [String]
    public let users: [String]
    public let rules: [RuleSummary]
}

public struct RuleSummary: Sendable, Hashable {
    public let id: Int64
    public let position: Int
    public let list: String
    public let action: RuleAction
    public let schedule: String?
}

extension PolicyStore {
    /// Adds a group ahead of the Default group. Members are CIDRs/addresses or `user:NAME`.
    public func addGroup(
        _ name: String, members: [String], defaultAction: ListKind = .allow, blockPage: String = "block",
        actor: String
    ) throws(PolicyStoreError) {
        try Self.validateName(name, field: "group")
        let parsed = try Self.parseMembers(members)
        try self.change(
            actor: actor, action: "add group",
            detail: { _ in "\(name) members: \(members.joined(separator: " ")) default: \(defaultAction.rawValue)" }
        ) { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM groups WHERE name = ?", arguments: [name]) == nil else {
                throw PolicyStoreError.conflict("the group '\(name)' exists")
            }
            let position =
                try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), 0) + 1 FROM groups WHERE is_default = 0")
                ?? 1
            try db.execute(
                sql: "INSERT INTO groups (name, position, default_action, block_page) VALUES (?, ?, ?, ?)",
                arguments: [name, position, defaultAction.rawValue, blockPage])
            let id = db.lastInsertedRowID
            for (kind, value) in parsed {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO group_members (group_id, kind, value) VALUES (?, ?, ?)",
                    arguments: [id, kind, value])
            }
        }
    }

    private static func parseMembers(_ members: [String]) throws(PolicyStoreError) -> [(String, String)] {
        var parsed: [(String, String)] = []
        for member in members {
            if member.hasPrefix("user:") {
                let user = String(member.dropFirst(5))
                guard !user.isEmpty else {
                    throw .invalid(PolicyInputError(field: "member", value: member, problem: "empty user name"))
                }
                parsed.append(("user", user))
            } else {
                do {
                    parsed.append(("network", try IPNetwork(parsing: member).description))
                } catch {
                    throw .invalid(PolicyInputError(field: "member", value: member, problem: error.problem))
                }
            }
        }
        return parsed
    }

    public func groups() throws(PolicyStoreError) -> [GroupSummary] {
        try self.read { db in
            let rules = try Row.fetchAll(
                db,
                sql: """
                    SELECT rules.id, rules.group_id, rules.position, lists.name AS list, rules.action, rules.target,
                           schedules.name AS schedule
                    FROM rules JOIN lists ON lists.id = rules.list_id
                    LEFT JOIN schedules ON schedules.id = rules.schedule_id
                    ORDER BY rules.group_id, rules.position, rules.id
                    """)
            let members = try Row.fetchAll(db, sql: "SELECT group_id, kind, value FROM group_members ORDER BY id")
            return try Row.fetchAll(db, sql: "SELECT * FROM groups ORDER BY is_default, position, id").map { row in
                let id: Int64 = row["id"]
                return GroupSummary(
                    name: row["name"], position: row["position"],
                    defaultAction: ListKind(rawValue: row["default_action"]) ?? .allow, blockPage: row["block_page"],
                    isDefault: row["is_default"],
                    networks: members.filter { $0["group_id"] == id && $0["kind"] == "network" }.map { $0["value"] },
                    users: members.filter { $0["group_id"] == id && $0["kind"] == "user" }.map { $0["value"] },
                    rules: rules.filter { $0["group_id"] == id }.compactMap { rule in
                        guard let action = try? RuleAction(name: rule["action"], target: rule["target"]) else {
                            return nil
                        }
                        return RuleSummary(
                            id: rule["id"], position: rule["position"], list: rule["list"], action: action,
                            schedule: rule["schedule"])
                    })
            }
        }
    }

    /// Adds a rule at the end of a group's rules (or at `position`, moving later ones down).
    @discardableResult
    public func addRule(
        group: String, list: String, action: RuleAction, schedule: String? = nil, position: Int? = nil,
        actor: String
    ) throws(PolicyStoreError) -> Int64 {
        let (name, target) = action.storage
        return try self.change(
            actor: actor, action: "add rule",
            detail: { _ in "\(group): \(list) → \(action)" + (schedule.map { " during \($0)" } ?? "") }
        ) { db in
            let groupID = try Self.requireGroup(db, group)
            let listID = try Self.requireList(db, list)
            var scheduleID: Int64?
            if let schedule {
                guard
                    let id = try Int64.fetchOne(
                        db, sql: "SELECT id FROM schedules WHERE name = ?", arguments: [schedule])
                else { throw PolicyStoreError.notFound("schedule", schedule) }
                scheduleID = id
            }
            let last =
                try Int.fetchOne(
                    db, sql: "SELECT COALESCE(MAX(position), 0) FROM rules WHERE group_id = ?", arguments: [groupID])
                ?? 0
            let at = min(max(position ?? (last + 1), 1), last + 1)
            try db.execute(
                sql: "UPDATE rules SET position = position + 1 WHERE group_id = ? AND position >= ?",
                arguments: [groupID, at])
            try db.execute(
                sql:
                    "INSERT INTO rules (group_id, position, list_id, action, target, schedule_id) VALUES (?,?,?,?,?,?)",
                arguments: [groupID, at, listID, name, target, scheduleID])
            return db.lastInsertedRowID
        }
    }

    public func removeRule(id: Int64, actor: String) throws(PolicyStoreError) {
        try self.change(actor: actor, action: "remove rule", detail: { _ in "rule \(id)" }) { db in
            try db.execute(sql: "DELETE FROM rules WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { throw PolicyStoreError.notFound("rule", id: id) }
        }
    }

    /// Creates a schedule, or replaces the windows and dates of an existing one.
    public func setSchedule(_ schedule: Schedule, actor: String) throws(PolicyStoreError) {
        try Self.validateName(schedule.name, field: "schedule")
        try self.change(
            actor: actor, action: "set schedule",
            detail: { _ in
                "\(schedule.name): "
                    + (schedule.windows.map(\.description) + schedule.dates.map(\.description))
                    .joined(separator: "; ")
            }
        ) { db in
            try db.execute(sql: "INSERT OR IGNORE INTO schedules (name) VALUES (?)", arguments: [schedule.name])
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM schedules WHERE name = ?", arguments: [schedule.name])
            try db.execute(sql: "DELETE FROM schedule_windows WHERE schedule_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM schedule_dates WHERE schedule_id = ?", arguments: [id])
            for window in schedule.windows {
                try db.execute(
                    sql:
                        "INSERT INTO schedule_windows (schedule_id, days, start_minute, end_minute) VALUES (?,?,?,?)",
                    arguments: [id, Int(window.days), window.startMinute, window.endMinute])
            }
            for range in schedule.dates {
                try db.execute(
                    sql: "INSERT INTO schedule_dates (schedule_id, first_day, last_day, mode) VALUES (?,?,?,?)",
                    arguments: [id, range.firstDay, range.lastDay, range.mode.rawValue])
            }
        }
    }

    static func requireGroup(_ db: Database, _ name: String) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM groups WHERE name = ?", arguments: [name]) else {
            throw PolicyStoreError.notFound("group", name)
        }
        return id
    }
}
