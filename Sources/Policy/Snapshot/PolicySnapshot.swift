import Foundation

/// The compiled, immutable policy: everything a decision needs, in memory, no database, no
/// locks. Made by `SnapshotCompiler` off the event loops and swapped in whole; a request
/// decided with one snapshot finishes with it.
public final class PolicySnapshot: Sendable {
    /// The store generation this was compiled from.
    public let generation: Int64
    let lists: [CompiledList]
    /// `domain` and `host` entries: key = host name, tag = list index | `hostOnlyFlag`.
    let names: NameTable
    /// `url` entries: key = host (www stripped), payload = path, tag = list index.
    let urls: NameTable
    let regexes: RegexBank
    /// Ordered; the last is the Default group.
    let groups: [CompiledGroup]
    let schedules: [Schedule]
    let timeZone: TimeZone
    /// The page templates, from the database.
    public let pages: PageCatalog
    /// How many entries were compiled, and the bytes their tables take.
    public let entryCount: Int
    public var tableBytes: Int { self.names.memoryBytes + self.urls.memoryBytes }

    static let hostOnlyFlag: UInt16 = 0x8000

    init(
        generation: Int64, lists: [CompiledList], names: NameTable, urls: NameTable, regexes: RegexBank,
        groups: [CompiledGroup], schedules: [Schedule], timeZone: TimeZone, pages: PageCatalog, entryCount: Int
    ) {
        self.generation = generation
        self.lists = lists
        self.names = names
        self.urls = urls
        self.regexes = regexes
        self.groups = groups
        self.schedules = schedules
        self.timeZone = timeZone
        self.pages = pages
        self.entryCount = entryCount
    }

    /// A snapshot that allows everything (before the first compile, and in tests).
    public static func allowAll(pages: PageCatalog = PageCatalog(templates: [])) -> PolicySnapshot {
        let group = CompiledGroup(
            name: "Default", networks: [], users: [], defaultAction: .allow, blockPage: "block", rules: [],
            firstRuleByList: [], nextRuleOnSameList: [], regexRules: [], usesURLs: false,
            defaultLabel: "allow,group=Default,rule=default")
        return PolicySnapshot(
            generation: 0, lists: [], names: .empty, urls: .empty, regexes: RegexBank(patterns: []), groups: [group],
            schedules: [], timeZone: TimeZone(identifier: "UTC")!, pages: pages, entryCount: 0)
    }

    /// The label the access log gives a decision (made once per rule; no allocation per request).
    public func logLabel(_ decision: Decision) -> String {
        guard let rule = decision.rule else {
            return self.groups[decision.group].defaultLabel
        }
        return self.groups[decision.group].rules[rule].logLabel
    }

    /// The name of the block page template of the decision's group.
    public func blockPage(_ decision: Decision) -> String { self.groups[decision.group].blockPage }

    /// The decision in words.
    public func trace(_ decision: Decision, facts: RequestFacts) -> DecisionTrace {
        let group = self.groups[decision.group]
        let rule = decision.rule.map { group.rules[$0] }
        let list = rule.map { self.lists[$0.list] }
        var entry: String?
        switch decision.match {
        case .name(let kind, let offset)?:
            let host = Self.normalizedHost(facts.host)
            let suffix = String(decoding: host.utf8.dropFirst(offset), as: UTF8.self)
            entry = EntryText(kind: kind, value: suffix).description
        case .url(let host, let pathLength)?:
            entry = host + String(decoding: facts.path.utf8.prefix(pathLength), as: UTF8.self)
        case .regex(let index)?:
            if let rule { entry = EntryText(kind: .regex, value: self.regexes.patterns[rule.list][index]).description }
        case nil:
            entry = nil
        }
        return DecisionTrace(
            verdict: decision.action.description, group: group.name, rule: rule?.id, rulePosition: rule?.position,
            list: list?.name, category: list?.category, entry: entry,
            schedule: rule?.schedule.map { self.schedules[$0].name }, page: group.blockPage)
    }
}

extension PolicySnapshot {
    /// `YYYY-MM-DDTHH:MM[:SS]` read in the policy's time zone.
    public func localTime(parsing text: String) throws(PolicyInputError) -> Date {
        func refuse(_ problem: String) -> PolicyInputError {
            PolicyInputError(field: "time", value: text, problem: problem)
        }
        let parts = text.split(separator: "T", maxSplits: 1)
        guard parts.count == 2 else { throw refuse("expected YYYY-MM-DDTHH:MM") }
        guard let date = CivilDate(parsing: parts[0]) else {
            throw refuse("the date: " + (CivilDate.calendarProblem(parsing: parts[0]) ?? "expected YYYY-MM-DD"))
        }
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        func number(_ index: Int, _ range: ClosedRange<Int>) -> Int? {
            guard index < clock.count, clock[index].count == 2, clock[index].allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(clock[index]), range.contains(value)
            else { return nil }
            return value
        }
        guard (2...3).contains(clock.count), let hours = number(0, 0...23), let minutes = number(1, 0...59),
            let seconds = clock.count == 3 ? number(2, 0...59) : 0
        else { throw refuse("the time: expected HH:MM or HH:MM:SS, hours 00…23") }
        let local = date.dayNumber * 86400 + hours * 3600 + minutes * 60 + seconds
        // The offset at the local time read as UTC, then corrected once (enough across DST).
        var guess = Date(timeIntervalSince1970: TimeInterval(local))
        guess = Date(timeIntervalSince1970: TimeInterval(local - self.timeZone.secondsFromGMT(for: guess)))
        return Date(timeIntervalSince1970: TimeInterval(local - self.timeZone.secondsFromGMT(for: guess)))
    }
}
