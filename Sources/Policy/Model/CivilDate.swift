/// A proleptic Gregorian calendar date, converted to and from a day count without Foundation's
/// calendar (which is too slow to call per request). Algorithms from Howard Hinnant's
/// "chrono-compatible low-level date algorithms".
public struct CivilDate: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    public init?(parsing text: some StringProtocol) {
        guard let (year, month, day) = Self.fields(text) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Why `text`, shaped `YYYY-MM-DD`, is no day of the calendar (`there is no month 13`); nil
    /// if it is one, or if it is not of that shape (the caller names the shape it expects).
    public static func calendarProblem(parsing text: some StringProtocol) -> String? {
        guard let (year, month, day) = Self.fields(text) else { return nil }
        guard (1...12).contains(month) else { return "there is no month \(month)" }
        let days = Self.daysIn(month: month, year: year)
        guard (1...days).contains(day) else { return "month \(month) of \(year) has \(days) days, not \(day)" }
        return nil
    }

    /// Year, month and day, if `text` has the shape `YYYY-MM-DD` (ASCII digits).
    private static func fields(_ text: some StringProtocol) -> (Int, Int, Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        return (year, month, day)
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int {
        let y = self.month <= 2 ? self.year - 1 : self.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (self.month + (self.month > 2 ? -3 : 9)) + 2) / 5 + self.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * mp + 2) / 5 + 1
        self.month = mp < 10 ? mp + 3 : mp - 9
        self.year = yearOfEra + era * 400 + (self.month <= 2 ? 1 : 0)
    }

    /// 0 = Sunday.
    public static func weekday(dayNumber: Int) -> Int { ((dayNumber % 7) + 11) % 7 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(self.year, 4))-\(pad(self.month, 2))-\(pad(self.day, 2))"
    }
}
