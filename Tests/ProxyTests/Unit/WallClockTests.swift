import NIOCore
import Testing

@testable import Proxy

struct WallClockTests {
    private let loopStart = NIODeadline.uptimeNanoseconds(5_000_000_000)
    /// 2026-11-27 12:00:00 UTC, in nanoseconds since the epoch.
    private let realStart: Int64 = 1_795_780_800_000_000_000

    @Test func theFirstReadingTakesTheSystemClockAndLaterOnesFollowTheLoopClock() {
        var clock = WallClock()
        var systemReads = 0
        let real = self.realStart
        let read = {
            systemReads += 1
            return real
        }
        #expect(clock.millis(at: self.loopStart, realTime: read) == 1_795_780_800_000)
        // Within the second the loop's clock alone moves the wall clock.
        #expect(clock.millis(at: self.loopStart + .milliseconds(250), realTime: read) == 1_795_780_800_250)
        #expect(clock.millis(at: self.loopStart + .milliseconds(999), realTime: read) == 1_795_780_800_999)
        #expect(systemReads == 1)
    }

    @Test func aStepOfTheSystemClockShowsOnceTheLoopClockMovedOnASecond() {
        var clock = WallClock()
        _ = clock.millis(at: self.loopStart, realTime: { self.realStart })
        // The system clock was set back an hour; the first second still counts from the old offset.
        let stepped = self.realStart - 3_600_000_000_000 + 1_000_000_000
        #expect(clock.millis(at: self.loopStart + .milliseconds(500), realTime: { stepped }) == 1_795_780_800_500)
        #expect(clock.millis(at: self.loopStart + .seconds(1), realTime: { stepped }) == 1_795_777_201_000)
        #expect(clock.millis(at: self.loopStart + .milliseconds(1_100), realTime: { 0 }) == 1_795_777_201_100)
    }

    @Test func aLoopClockBehindTheLastOffsetTakesTheSystemClockAgain() {
        var clock = WallClock()
        _ = clock.millis(at: self.loopStart, realTime: { self.realStart })
        #expect(
            clock.millis(at: self.loopStart - .milliseconds(1), realTime: { self.realStart + 7_000_000 })
                == 1_795_780_800_007)
    }
}
