/// When a rule applies: weekly windows and date ranges, in the policy's time zone.
///
/// A schedule is active at a moment when
/// - it has no weekly windows, or the moment is inside one of them, and
/// - it has no `within` date ranges, or the day is inside one of them (terms), and
/// - the day is inside none of its `except` date ranges (holidays).
public struct Schedule: Sendable, Hashable {
    public var name: String
    public var windows: [WeeklyWindow]
    public var dates: [DateRange]

    public init(name: String, windows: [WeeklyWindow] = [], dates: [DateRange] = []) {
        self.name = name
        self.windows = windows
        self.dates = dates
    }

    /// Whether the schedule is active on `day` (days since 1970-01-01, local) at `minute` of
    /// the day, that day being `weekday` (0 = Sunday).
    public func isActive(day: Int, weekday: Int, minute: Int) -> Bool {
        if !self.windows.isEmpty, !self.windows.contains(where: { $0.contains(weekday: weekday, minute: minute) }) {
            return false
        }
        let within = self.dates.filter { $0.mode == .within }
        if !within.isEmpty, !within.contains(where: { $0.contains(day: day) }) { return false }
        return !self.dates.contains { $0.mode == .except && $0.contains(day: day) }
    }
}

/// Days of the week and a time span within each: `mon-fri 08:00-16:30`, `sat,sun 00:00-24:00`.
/// A span whose end is before its start runs past midnight into the next day.
public struct WeeklyWindow: Sendable, Hashable, CustomStringConvertible {
    /// Bit `d` set for weekday `d` (0 = Sunday … 6 = Saturday).
    public var days: UInt8
    public var startMinute: Int
    public var endMinute: Int

    public init(days: UInt8, startMinute: Int, endMinute: Int) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `DAYS HH:MM-HH:MM`; DAYS is a comma list of names or ranges (`mon-fri,sun`),
    /// or `*` for every day.
    public init(parsing text: String) throws(PolicyInputError) {
        func fail(_ problem: String) -> PolicyInputError {
            PolicyInputError(field: "window", value: text, problem: problem)
        }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2 else { throw fail("expected 'DAYS HH:MM-HH:MM', e.g. 'mon-fri 08:00-16:00'") }
        var days: UInt8 = 0
        if parts[0] == "*" {
            days = 0x7F
        } else {
            for item in parts[0].lowercased().split(separator: ",") {
                let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
                let indexes = bounds.map { Self.dayNames.firstIndex(of: String($0.prefix(3))) }
                guard (1...2).contains(bounds.count), !indexes.contains(nil),
                    bounds.allSatisfy({ $0.count >= 3 })
                else { throw fail("unknown day '\(item)' (use sun mon tue wed thu fri sat)") }
                var day = indexes[0]!
                let last = indexes[indexes.count - 1]!
                while true {
                    days |= 1 << UInt8(day)
                    if day == last { break }
                    day = (day + 1) % 7
                }
            }
        }
        let times = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2, let start = Self.minute(times[0]), let end = Self.minute(times[1]) else {
            throw fail("expected a time span HH:MM-HH:MM with hours 00…24 and minutes 00…59")
        }
        guard start != end else { throw fail("the time span is empty") }
        self.init(days: days, startMinute: start, endMinute: end)
    }

    private static func minute(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 1440
        else { return nil }
        return hours * 60 + minutes
    }

    func contains(weekday: Int, minute: Int) -> Bool {
        if self.startMinute < self.endMinute {
            return self.days & (1 << UInt8(weekday)) != 0 && minute >= self.startMinute && minute < self.endMinute
        }
        // Past midnight: the evening part on the listed day, the morning part on the next.
        let yesterday = (weekday + 6) % 7
        return (self.days & (1 << UInt8(weekday)) != 0 && minute >= self.startMinute)
            || (self.days & (1 << UInt8(yesterday)) != 0 && minute < self.endMinute)
    }

    public var description: String {
        let names = (0..<7).filter { self.days & (1 << UInt8($0)) != 0 }.map { Self.dayNames[$0] }
        func clock(_ minute: Int) -> String {
            let hours = minute / 60
            let minutes = minute % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
        }
        return
            "\(names.count == 7 ? "*" : names.joined(separator: ",")) \(clock(self.startMinute))-\(clock(self.endMinute))"
    }
}

/// A span of whole days, both ends included: a school term (`within`) or a holiday (`except`).
public struct DateRange: Sendable, Hashable, CustomStringConvertible {
    public enum Mode: String, Sendable, Hashable { case within, except }

    /// Days since 1970-01-01.
    public var firstDay: Int
    public var lastDay: Int
    public var mode: Mode

    public init(firstDay: Int, lastDay: Int, mode: Mode) {
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.mode = mode
    }

    /// Parses `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    public init(parsing text: String, mode: Mode) throws(PolicyInputError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: true)
        let usesRange = text.contains("..")
        let shape = "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
        guard (usesRange && parts.count == 2) || (!usesRange && parts.count == 1) else {
            throw PolicyInputError(field: "dates", value: text, problem: shape)
        }
        func day(_ part: Substring) throws(PolicyInputError) -> CivilDate {
            if let date = CivilDate(parsing: part) { return date }
            // A date of the right shape that the calendar does not have is named as such.
            throw PolicyInputError(
                field: "dates", value: text, problem: CivilDate.calendarProblem(parsing: part) ?? shape)
        }
        let first = try day(parts[0])
        let last = try day(parts[parts.count - 1])
        guard first.dayNumber <= last.dayNumber else {
            throw PolicyInputError(field: "dates", value: text, problem: "the range ends before it starts")
        }
        self.init(firstDay: first.dayNumber, lastDay: last.dayNumber, mode: mode)
    }

    func contains(day: Int) -> Bool { day >= self.firstDay && day <= self.lastDay }

    public var text: String {
        self.firstDay == self.lastDay
            ? CivilDate(dayNumber: self.firstDay).description
            : "\(CivilDate(dayNumber: self.firstDay))..\(CivilDate(dayNumber: self.lastDay))"
    }

    public var description: String { "\(self.mode.rawValue) \(self.text)" }
}
