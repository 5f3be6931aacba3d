import NIOCore

/// Whether a failing ICAP service is tried: after `failureThreshold` failures in a row it
/// is suspended for a back-off (doubling from `initialBackoff` up to `maximumBackoff`); when
/// the back-off ends one request may try it (half-open); success closes the breaker, failure
/// suspends it again for longer. Pure: the caller passes the time, and logs the transitions.
public struct ServiceCircuitBreaker: Sendable {
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case suspended(until: NIODeadline, backoff: TimeAmount)
        /// One trial request is in flight after a suspension.
        case trying(backoff: TimeAmount)
    }

    /// What changed, for logs and counters.
    public enum Transition: Sendable, Equatable {
        case none
        case suspended(for: TimeAmount)
        case resumed
    }

    public private(set) var state: State = .closed(consecutiveFailures: 0)
    public let failureThreshold: Int
    public let initialBackoff: TimeAmount
    public let maximumBackoff: TimeAmount

    public init(
        failureThreshold: Int = 3, initialBackoff: TimeAmount = .seconds(5), maximumBackoff: TimeAmount = .seconds(120)
    ) {
        self.failureThreshold = max(1, failureThreshold)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Whether a request may use the service now. When a suspension has run out, the first
    /// caller gets to try (and the breaker waits for its outcome).
    public mutating func permitsRequest(at now: NIODeadline) -> Bool {
        switch self.state {
        case .closed: return true
        case .trying: return false
        case .suspended(let until, let backoff):
            guard now >= until else { return false }
            self.state = .trying(backoff: backoff)
            return true
        }
    }

    public mutating func recordSuccess() -> Transition {
        switch self.state {
        case .closed:
            self.state = .closed(consecutiveFailures: 0)
            return .none
        case .trying, .suspended:
            self.state = .closed(consecutiveFailures: 0)
            return .resumed
        }
    }

    public mutating func recordFailure(at now: NIODeadline) -> Transition {
        switch self.state {
        case .closed(let failures):
            guard failures + 1 >= self.failureThreshold else {
                self.state = .closed(consecutiveFailures: failures + 1)
                return .none
            }
            self.state = .suspended(until: now + self.initialBackoff, backoff: self.initialBackoff)
            return .suspended(for: self.initialBackoff)
        case .trying(let backoff), .suspended(_, let backoff):
            let longer = TimeAmount.nanoseconds(min(backoff.nanoseconds * 2, self.maximumBackoff.nanoseconds))
            self.state = .suspended(until: now + longer, backoff: longer)
            return .suspended(for: longer)
        }
    }
}
