import Foundation
import Testing

@testable import Policy

struct ScheduleTests {
    /// 2026-11-18 is a Wednesday.
    private func at(_ text: String, in snapshot: PolicySnapshot) throws -> Date {
        try snapshot.localTime(parsing: text)
    }

    private func scheduledStore(_ schedule: Schedule, timeZone: String = "Europe/Paris") throws -> PolicyStore {
        let store = try freshStore()
        try store.setTimeZone(timeZone, actor: "t")
        try store.setSchedule(schedule, actor: "t")
        try store.createList("games", actor: "t")
        _ = try store.addEntries(["games.example"], to: "games", actor: "t")
        try store.addRule(
            group: "Default", list: "games", action: .deny, schedule: schedule.name, position: 1, actor: "t")
        return store
    }

    @Test func aWeeklyWindowAppliesOnItsDaysAndHoursInThePolicyTimeZone() throws {
        let store = try self.scheduledStore(
            Schedule(name: "school-hours", windows: [try WeeklyWindow(parsing: "mon-fri 08:00-16:30")]))
        let snapshot = try store.snapshot()
        let url = "http://games.example/"
        #expect(try snapshot.check(url, at: self.at("2026-11-18T08:00", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2026-11-18T16:29", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2026-11-18T16:30", in: snapshot)).verdict == "allow")
        #expect(try snapshot.check(url, at: self.at("2026-11-18T07:59", in: snapshot)).verdict == "allow")
        #expect(try snapshot.check(url, at: self.at("2026-11-21T10:00", in: snapshot)).verdict == "allow", "Saturday")
        #expect(try snapshot.check(url, at: self.at("2026-11-18T10:00", in: snapshot)).schedule == "school-hours")
        // 07:30 UTC is 08:30 in Paris in November.
        #expect(try snapshot.check(url, at: Date(timeIntervalSince1970: 1_794_987_000)).verdict == "deny")
    }

    @Test func aWindowPastMidnightRunsIntoTheNextDay() throws {
        let store = try self.scheduledStore(
            Schedule(name: "night", windows: [try WeeklyWindow(parsing: "fri 22:00-06:00")]))
        let snapshot = try store.snapshot()
        let url = "http://games.example/"
        #expect(try snapshot.check(url, at: self.at("2026-11-20T23:00", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2026-11-21T05:59", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2026-11-21T06:00", in: snapshot)).verdict == "allow")
        #expect(try snapshot.check(url, at: self.at("2026-11-20T05:00", in: snapshot)).verdict == "allow")
    }

    @Test func termsAndHolidaysLimitTheDays() throws {
        let store = try self.scheduledStore(
            Schedule(
                name: "term-time", windows: [try WeeklyWindow(parsing: "* 00:00-24:00")],
                dates: [
                    try DateRange(parsing: "2026-09-01..2027-07-04", mode: .within),
                    try DateRange(parsing: "2026-12-19..2027-01-03", mode: .except),
                ]))
        let snapshot = try store.snapshot()
        let url = "http://games.example/"
        #expect(try snapshot.check(url, at: self.at("2026-11-18T12:00", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2026-12-25T12:00", in: snapshot)).verdict == "allow")
        #expect(try snapshot.check(url, at: self.at("2027-01-03T23:59", in: snapshot)).verdict == "allow")
        #expect(try snapshot.check(url, at: self.at("2027-01-04T00:00", in: snapshot)).verdict == "deny")
        #expect(try snapshot.check(url, at: self.at("2027-08-01T12:00", in: snapshot)).verdict == "allow")
    }

    @Test func anInactiveScheduledRuleLetsTheNextRuleOnTheSameListDecide() throws {
        let store = try self.scheduledStore(
            Schedule(name: "lunch", windows: [try WeeklyWindow(parsing: "mon-fri 12:00-13:00")]))
        try store.addRule(group: "Default", list: "games", action: .allow, position: 1, actor: "t")
        // Rules: 1 games→allow, 2 games→deny during lunch: allow always wins first.
        let snapshot = try store.snapshot()
        #expect(
            try snapshot.check("http://games.example/", at: self.at("2026-11-18T12:30", in: snapshot)).verdict
                == "allow")
    }

    @Test func malformedWindowsAndDatesAreRefusedNamingTheField() {
        for text in [
            "mon-fri", "funday 08:00-09:00", "mon 8:00-9:00", "mon 08:00-25:00", "mon 08:00-08:00", "mon 08:60-09:00",
        ] {
            #expect(throws: PolicyInputError.self, "\(text)") { try WeeklyWindow(parsing: text) }
        }
        for (text, problem) in [
            ("2026-13-01", "there is no month 13"), ("2026-02-30", "month 2 of 2026 has 28 days, not 30"),
            ("2028-02-29..2028-02-30", "month 2 of 2028 has 29 days, not 30"),
            ("2026-12-01..2026-11-01", "the range ends before it starts"),
            ("yesterday", "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"),
            ("2026-1-1", "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"),
            ("2026-01-01..2026-01-02..2026-01-03", "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"),
        ] {
            #expect(throws: PolicyInputError(field: "dates", value: text, problem: problem)) {
                try DateRange(parsing: text, mode: .within)
            }
        }
    }

    @Test func aMomentThatIsNoDateOrTimeIsRefusedSayingWhich() throws {
        let snapshot = try SnapshotCompiler.compile(try freshStore())
        for (text, problem) in [
            ("2026-02-30T10:00", "the date: month 2 of 2026 has 28 days, not 30"),
            ("2026-13-01T10:00", "the date: there is no month 13"), ("26-01-01T10:00", "the date: expected YYYY-MM-DD"),
            ("2026-11-18", "expected YYYY-MM-DDTHH:MM"),
            ("2026-11-18T24:00", "the time: expected HH:MM or HH:MM:SS, hours 00…23"),
            ("2026-11-18T8:00", "the time: expected HH:MM or HH:MM:SS, hours 00…23"),
            ("2026-11-18T+8:00", "the time: expected HH:MM or HH:MM:SS, hours 00…23"),
            ("2026-11-18T08:00:60", "the time: expected HH:MM or HH:MM:SS, hours 00…23"),
        ] {
            #expect(throws: PolicyInputError(field: "time", value: text, problem: problem)) {
                try snapshot.localTime(parsing: text)
            }
        }
        #expect(
            try snapshot.localTime(parsing: "2026-11-18T08:00:30") == snapshot.localTime(parsing: "2026-11-18T08:00")
                + 30)
    }

    @Test func windowsReadBackAsWritten() throws {
        #expect(try WeeklyWindow(parsing: "mon-fri 08:00-16:30").description == "mon,tue,wed,thu,fri 08:00-16:30")
        #expect(try WeeklyWindow(parsing: "sat,sun 00:00-24:00").description == "sun,sat 00:00-24:00")
        #expect(try WeeklyWindow(parsing: "fri-mon 10:00-11:00").days == 0b0110_0011)
    }

    @Test func civilDatesRoundTripAndKnowTheirWeekday() throws {
        for day in stride(from: -800_000, through: 800_000, by: 997) {
            let date = CivilDate(dayNumber: day)
            #expect(date.dayNumber == day)
        }
        #expect(try #require(CivilDate(parsing: "2026-11-18")).dayNumber == 20_775)
        #expect(CivilDate.weekday(dayNumber: 20_775) == 3)
        #expect(CivilDate.weekday(dayNumber: 0) == 4, "1970-01-01 was a Thursday")
        #expect(CivilDate(parsing: "2024-02-29") != nil)
        #expect(CivilDate(parsing: "2100-02-29") == nil)
    }
}
