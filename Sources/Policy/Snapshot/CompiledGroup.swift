/// A group, ready for decisions. A class: a decision reads many of its arrays, and one
/// reference costs one retain where a struct of arrays costs one per array.
final class CompiledGroup: Sendable {
    let name: String
    let networks: [IPNetwork]
    let users: Set<String>
    let defaultAction: RuleAction
    let blockPage: String
    let rules: [CompiledRule]
    /// For each list index, the first of this group's rules on that list (-1: none)…
    let firstRuleByList: [Int32]
    /// …and, for each rule, the next rule on the same list (-1: none).
    let nextRuleOnSameList: [Int32]
    /// Rules whose list has regular expressions, in order.
    let regexRules: [Int32]
    /// Whether any rule's list has URL entries (else the URL table is not consulted).
    let usesURLs: Bool
    /// What the access log says when no rule matched.
    let defaultLabel: String

    init(
        name: String, networks: [IPNetwork], users: Set<String>, defaultAction: RuleAction, blockPage: String,
        rules: [CompiledRule], firstRuleByList: [Int32], nextRuleOnSameList: [Int32], regexRules: [Int32],
        usesURLs: Bool, defaultLabel: String
    ) {
        self.name = name
        self.networks = networks
        self.users = users
        self.defaultAction = defaultAction
        self.blockPage = blockPage
        self.rules = rules
        self.firstRuleByList = firstRuleByList
        self.nextRuleOnSameList = nextRuleOnSameList
        self.regexRules = regexRules
        self.usesURLs = usesURLs
        self.defaultLabel = defaultLabel
    }

    func contains(_ client: IPAddress128?, user: String?) -> Bool {
        if let user, self.users.contains(user) { return true }
        guard let client else { return false }
        return self.networks.contains { $0.contains(client) }
    }
}

/// A rule, ready for decisions.
struct CompiledRule: Sendable {
    let id: Int64
    let position: Int
    let list: Int
    let action: RuleAction
    /// Index into the snapshot's schedules.
    let schedule: Int?
    /// `deny,group=Default,rule=2,list=deny`: what the access log says, made once.
    let logLabel: String
}

/// A list, as decisions and traces name it.
struct CompiledList: Sendable {
    let name: String
    let kind: ListKind
    let category: String
}
