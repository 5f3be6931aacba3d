import Foundation

extension PolicySnapshot {
    /// Decides one request. Pure: the same snapshot, facts and time give the same decision.
    ///
    /// Precedence:
    /// 1. The group: the first group (in order) that names the user or contains the client's
    ///    address; otherwise the Default group.
    /// 2. The group's rules in order; the first rule whose list matches the request and whose
    ///    schedule (if any) is active at `time` decides. A list matches when one of its entries
    ///    does: `domain` (the host or any parent domain), `host` (the host exactly), `url` (the
    ///    host with `www<digits>.` ignored, and a path prefix ending at a `/`, `?` or the end),
    ///    `regex` (anywhere in the URL, case-insensitively). Disabled lists match nothing.
    /// 3. No rule decides: the group's default action (allow, or deny for groups that only
    ///    allow what their allow lists name).
    public func decide(_ facts: RequestFacts, at time: Date) -> Decision {
        let groupIndex = self.groupIndex(client: facts.client, user: facts.user)
        let group = self.groups[groupIndex]
        guard !group.rules.isEmpty else {
            return Decision(action: group.defaultAction, group: groupIndex, rule: nil, match: nil)
        }
        var clock = ScheduleClock(time: time, timeZone: self.timeZone)
        var best = Int32.max
        var match: Decision.Match?

        // The first rule on `list` that is active and earlier than the best so far.
        func consider(list: Int) -> Int32? {
            guard list < group.firstRuleByList.count else { return nil }
            var rule = group.firstRuleByList[list]
            while rule >= 0 && rule < best {
                if let schedule = group.rules[Int(rule)].schedule {
                    if clock.isActive(self.schedules[schedule]) { return rule }
                } else {
                    return rule
                }
                rule = group.nextRuleOnSameList[Int(rule)]
            }
            return nil
        }

        let host = Self.normalizedHost(facts.host)
        host.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var offset = 0
            while offset < raw.count {
                let suffix = UnsafeRawBufferPointer(rebasing: raw[offset...])
                let isWholeHost = offset == 0
                self.names.forEach(key: suffix) { tag, _ in
                    let hostOnly = tag & Self.hostOnlyFlag != 0
                    if hostOnly && !isWholeHost { return true }
                    if let rule = consider(list: Int(tag & ~Self.hostOnlyFlag)) {
                        best = rule
                        match = .name(kind: hostOnly ? .host : .domain, offset: offset)
                    }
                    return true
                }
                guard let dot = suffix.firstIndex(of: UInt8(ascii: ".")) else { break }
                offset += dot - suffix.startIndex + 1
            }
        }

        if group.usesURLs && !facts.isConnect {
            let urlHost = URLKey.strippingWWW(host)
            var path = facts.path
            var urlHostCopy = urlHost
            urlHostCopy.withUTF8 { key in
                path.withUTF8 { path in
                    self.urls.forEach(key: UnsafeRawBufferPointer(key)) { tag, prefix in
                        guard Self.pathHasPrefix(UnsafeRawBufferPointer(path), prefix),
                            let rule = consider(list: Int(tag))
                        else { return true }
                        best = rule
                        match = .url(host: urlHost, pathLength: prefix.count)
                        return true
                    }
                }
            }
        }

        if !group.regexRules.isEmpty {
            var url: String?
            for rule in group.regexRules where rule < best {
                let compiled = group.rules[Int(rule)]
                if let schedule = compiled.schedule, !clock.isActive(self.schedules[schedule]) { continue }
                if url == nil { url = facts.url }
                if let index = self.regexes.firstMatch(list: compiled.list, in: url!) {
                    best = rule
                    match = .regex(index: index)
                    break
                }
            }
        }

        guard best != Int32.max else {
            return Decision(action: group.defaultAction, group: groupIndex, rule: nil, match: nil)
        }
        return Decision(action: group.rules[Int(best)].action, group: groupIndex, rule: Int(best), match: match)
    }

    private func groupIndex(client: IPAddress128?, user: String?) -> Int {
        let last = self.groups.count - 1
        for index in 0..<last where self.groups[index].contains(client, user: user) { return index }
        return last
    }

    /// `prefix` is a prefix of `path` ending at a path boundary: `/a` matches `/a`, `/a/b`,
    /// `/a?x`, not `/ab`. An empty prefix (a URL entry of a bare host) matches every path.
    static func pathHasPrefix(_ path: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
        guard prefix.count <= path.count else { return false }
        guard prefix.count == 0 || memcmp(path.baseAddress!, prefix.baseAddress!, prefix.count) == 0 else {
            return false
        }
        guard prefix.count < path.count else { return true }
        let next = path[prefix.count]
        return next == UInt8(ascii: "/") || next == UInt8(ascii: "?") || next == UInt8(ascii: "#")
            || prefix.last == UInt8(ascii: "/")
    }

    /// The host as entries are stored: lower case, no trailing dot, IDN as punycode. The
    /// common case (already so) returns the same string without copying.
    static func normalizedHost(_ host: String) -> String {
        var needsWork = false
        for byte in host.utf8 where byte >= 0x80 || (byte >= 0x41 && byte <= 0x5A) {
            needsWork = true
            break
        }
        if !needsWork && host.utf8.last != UInt8(ascii: ".") { return host }
        if let normalized = try? HostName.normalized(host) { return normalized }
        var lowered = host.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }
}

/// The local day and minute of the decision's time, worked out once and only if a schedule
/// needs it.
struct ScheduleClock {
    private let time: Date
    private let timeZone: TimeZone
    private var local: (day: Int, weekday: Int, minute: Int)?

    init(time: Date, timeZone: TimeZone) {
        self.time = time
        self.timeZone = timeZone
    }

    mutating func isActive(_ schedule: Schedule) -> Bool {
        if self.local == nil {
            let seconds =
                Int(self.time.timeIntervalSince1970.rounded(.down)) + self.timeZone.secondsFromGMT(for: self.time)
            let day = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
            self.local = (day, CivilDate.weekday(dayNumber: day), (seconds - day * 86400) / 60)
        }
        let local = self.local!
        return schedule.isActive(day: local.day, weekday: local.weekday, minute: local.minute)
    }
}

extension PolicySnapshot {
    /// Decides and explains (the admin UI and `portcullis policy test`).
    public func explain(_ facts: RequestFacts, at time: Date) -> DecisionTrace {
        self.trace(self.decide(facts, at: time), facts: facts)
    }
}
