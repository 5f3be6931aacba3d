import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock of one client connection, read from the event loop's clock (the one its
/// timeouts read) plus an offset to real time. The offset is taken from `CLOCK_REALTIME` on
/// the first reading and again once the loop's clock has moved on a second or more: an
/// exchange costs one clock reading, not two, and a step of the system clock shows in the
/// log within a second.
struct WallClock {
    /// Real time minus the loop's clock, in nanoseconds.
    private var offset: Int64 = 0
    /// The loop's clock when `offset` was taken; nil before the first reading.
    private var takenAt: NIODeadline?

    /// How long an offset is used before it is taken again.
    static let resyncInterval = TimeAmount.seconds(1)

    /// Milliseconds since the epoch at `now`, a reading of the loop's clock. `realTime` reads
    /// the system's clock (nanoseconds since the epoch) when the offset is taken.
    mutating func millis(at now: NIODeadline, realTime: () -> Int64 = WallClock.systemNanoseconds) -> Int64 {
        if let takenAt = self.takenAt, now >= takenAt, now - takenAt < Self.resyncInterval {
            return (Int64(truncatingIfNeeded: now.uptimeNanoseconds) &+ self.offset) / 1_000_000
        }
        let real = realTime()
        self.offset = real &- Int64(truncatingIfNeeded: now.uptimeNanoseconds)
        self.takenAt = now
        return real / 1_000_000
    }

    /// `CLOCK_REALTIME`, in nanoseconds since the epoch.
    static func systemNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
