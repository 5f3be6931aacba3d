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
        var state = DecisionState(clock: ScheduleClock(time: time, timeZone: self.timeZone))
        let host = Self.normalizedHost(facts.host)
        host.utf8.withContiguousStorageIfAvailable { bytes in
            let host = UnsafeRawBufferPointer(bytes)
            // URL entries are keyed by the host without `www<digits>.`.
            let urlKey = UnsafeRawBufferPointer(rebasing: host[URLLine.wwwPrefixLength(host)...])
            let urlKeyHash = group.usesURLs && !facts.isConnect ? NameTable.hash(urlKey) : nil
            self.matchNames(host, group: group, alsoPrefetchURLs: urlKeyHash, state: &state)
            if let urlKeyHash {
                self.matchURLs(key: urlKey, hash: urlKeyHash, path: facts.path, group: group, state: &state)
            }
        }
        if let first = group.regexRules.first, first < state.best {
            self.matchRegexes(facts, group: group, state: &state)
        }
        guard state.best != Int32.max else {
            return Decision(action: group.defaultAction, group: groupIndex, rule: nil, match: nil)
        }
        return Decision(
            action: group.rules[Int(state.best)].action, group: groupIndex, rule: Int(state.best), match: state.match)
    }

    /// Domain and host entries: the host and each parent domain. Their buckets are all read
    /// before any is searched, so the cache misses overlap.
    private func matchNames(
        _ host: UnsafeRawBufferPointer, group: CompiledGroup, alsoPrefetchURLs urlKeyHash: UInt64?,
        state: inout DecisionState
    ) {
        let maxSuffixes = 16
        withUnsafeTemporaryAllocation(of: (offset: Int, hash: UInt64).self, capacity: maxSuffixes) { suffixes in
            var count = 0
            var offset = 0
            while offset < host.count && count < maxSuffixes {
                let suffix = UnsafeRawBufferPointer(rebasing: host[offset...])
                let dot = suffix.firstIndex(of: UInt8(ascii: "."))
                if dot != nil || self.names.hasSingleLabelKeys {
                    suffixes[count] = (offset, NameTable.hash(suffix))
                    count += 1
                }
                guard let dot else { break }
                offset += dot - suffix.startIndex + 1
            }
            var touched: UInt32 = urlKeyHash.map { self.urls.prefetch(hash: $0) } ?? 0
            for index in 0..<count { touched ^= self.names.prefetch(hash: suffixes[index].hash) }
            state.touched = touched
            for index in 0..<count {
                let (offset, hash) = suffixes[index]
                let isWholeHost = offset == 0
                self.names.forEach(key: UnsafeRawBufferPointer(rebasing: host[offset...]), hash: hash) { tag, _ in
                    let hostOnly = tag & Self.hostOnlyFlag != 0
                    if hostOnly && !isWholeHost { return true }
                    if let rule = self.firstActiveRule(list: Int(tag & ~Self.hostOnlyFlag), group: group, state: &state)
                    {
                        state.best = rule
                        state.match = .name(kind: hostOnly ? .host : .domain, offset: offset)
                    }
                    return true
                }
            }
        }
    }

    /// URL entries: the host without `www<digits>.` (`key`), then a path prefix.
    private func matchURLs(
        key: UnsafeRawBufferPointer, hash: UInt64, path: String, group: CompiledGroup, state: inout DecisionState
    ) {
        var path = path
        path.withUTF8 { path in
            self.urls.forEach(key: key, hash: hash) { tag, prefix in
                guard Self.pathHasPrefix(UnsafeRawBufferPointer(path), prefix),
                    let rule = self.firstActiveRule(list: Int(tag), group: group, state: &state)
                else { return true }
                state.best = rule
                state.match = .url(host: String(decoding: key, as: UTF8.self), pathLength: prefix.count)
                return true
            }
        }
    }

    /// Regular expressions, rule by rule, for rules ahead of the best so far. The URL is
    /// written once into a stack buffer (as is, NUL-terminated, and lowercased); a bigram
    /// filter and the pattern's required literal spare `regexec` for most URLs.
    private func matchRegexes(_ facts: RequestFacts, group: CompiledGroup, state: inout DecisionState) {
        let capacity = facts.urlCapacity
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * capacity + 1) { buffer in
            let written = UnsafeMutableBufferPointer(rebasing: buffer[capacity...])
            let count = facts.writeURL(into: written)
            RegexBank.prepareInPlace(buffer, count: count, from: UnsafeBufferPointer(written))
            let cString = RegexBank.cString(buffer, count: count)
            let lowered = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<count]))
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: RegexBank.bloomWords) { bloom in
                RegexBank.fillBloom(bloom, from: lowered)
                for rule in group.regexRules where rule < state.best {
                    let compiled = group.rules[Int(rule)]
                    if let schedule = compiled.schedule, !state.clock.isActive(self.schedules[schedule]) { continue }
                    if let index = self.regexes.firstMatch(
                        list: compiled.list, url: cString, lowered: lowered, bloom: bloom)
                    {
                        state.best = rule
                        state.match = .regex(index: index)
                        break
                    }
                }
            }
        }
    }

    /// The first rule on `list` that is active and earlier than the best so far.
    @inline(__always)
    private func firstActiveRule(list: Int, group: CompiledGroup, state: inout DecisionState) -> Int32? {
        guard list < group.firstRuleByList.count else { return nil }
        var rule = group.firstRuleByList[list]
        while rule >= 0 && rule < state.best {
            guard let schedule = group.rules[Int(rule)].schedule else { return rule }
            if state.clock.isActive(self.schedules[schedule]) { return rule }
            rule = group.nextRuleOnSameList[Int(rule)]
        }
        return nil
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

/// What a decision has found so far.
struct DecisionState {
    var clock: ScheduleClock
    /// The earliest matching rule so far (`Int32.max`: none).
    var best = Int32.max
    var match: Decision.Match?
    /// Keeps the prefetching loads from being optimised away.
    var touched: UInt32 = 0
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
