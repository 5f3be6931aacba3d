/// The outcome of `PolicySnapshot.decide`: what to do, and why. Cheap to make (indexes into
/// the snapshot); `PolicySnapshot.trace(_:)` spells the why out.
public struct Decision: Sendable {
    public let action: RuleAction
    /// Index of the group in the snapshot.
    let group: Int
    /// Index of the rule within its group; `nil` when the group's default action applied.
    let rule: Int?
    /// What matched.
    let match: Match?

    enum Match: Sendable {
        /// A domain or host entry: the suffix of the request's host starting at this UTF-8 offset.
        case name(kind: EntryKind, offset: Int)
        /// A URL entry on this host (www stripped) with a path of this many bytes.
        case url(host: String, pathLength: Int)
        /// The pattern at this index in its list.
        case regex(index: Int)
    }

    public var isBlocked: Bool { self.action.isBlocking }
}

/// A decision in words, for people (`portcullis policy test`, the admin UI, logs).
public struct DecisionTrace: Sendable, Hashable, CustomStringConvertible {
    public let verdict: String
    public let group: String
    /// `nil` when no rule matched and the group's default applied.
    public let rule: Int64?
    public let rulePosition: Int?
    public let list: String?
    public let category: String?
    /// The entry that matched, in `EntryText` form.
    public let entry: String?
    public let schedule: String?
    /// The block page template the group uses.
    public let page: String
    /// One line: `deny group=Default rule=2 list=deny entry=example.com`.
    public var description: String {
        var parts = [self.verdict, "group=\(self.group)"]
        if let rulePosition { parts.append("rule=\(rulePosition)") } else { parts.append("rule=default") }
        if let list { parts.append("list=\(list)") }
        if let category, category != list { parts.append("category=\(category)") }
        if let entry { parts.append("entry=\(entry)") }
        if let schedule { parts.append("schedule=\(schedule)") }
        return parts.joined(separator: " ")
    }
}
