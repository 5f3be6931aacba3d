import NIOCore

/// What a client connection waits for while no exchange runs, and until when:
/// - the next request, up to the idle keep-alive timeout; then the connection closes without
///   a word (RFC 9112 §9.8 lets a server close an idle connection at any time);
/// - the rest of a request head that has begun, up to the header timeout; then the client
///   gets a 408 (a slowloris client sends its head a byte at a time).
///
/// While an exchange runs nothing is timed here: the origin connection and the tunnel have
/// timeouts of their own.
///
/// Pure: the `ClientConnectionHandler` runs one check at a time from it. Checks are lazy: a
/// check that finds the deadline moved on asks to run again, so a keep-alive request costs no
/// timer of its own.
struct ClientWait {
    enum Waiting: Equatable {
        /// An exchange runs.
        case nothing
        case nextRequest
        case restOfHead
    }

    /// What a check that ran asks for.
    enum CheckOutcome: Equatable {
        case nothing
        case checkAgain(at: NIODeadline)
        case closeIdleConnection
        case headTimedOut
    }

    let idleTimeout: TimeAmount
    let headerTimeout: TimeAmount
    private(set) var waiting: Waiting = .nothing
    private(set) var deadline: NIODeadline = .distantFuture
    /// When the pending check runs; nil while none is pending.
    private(set) var checkAt: NIODeadline?

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    /// No exchange runs (the connection is new, or its last exchange ended): the next request
    /// is awaited, or the rest of a head whose first bytes already came. Returns when to run
    /// a check in place of the pending one, if that one would come too late.
    mutating func awaitRequest(now: NIODeadline, headBegun: Bool) -> NIODeadline? {
        headBegun
            ? self.wait(for: .restOfHead, until: now + self.headerTimeout)
            : self.wait(for: .nextRequest, until: now + self.idleTimeout)
    }

    /// The first bytes of a head came, not all of it: the header timeout runs from `now`.
    mutating func headBegan(now: NIODeadline) -> NIODeadline? {
        guard self.waiting == .nextRequest else { return nil }
        return self.wait(for: .restOfHead, until: now + self.headerTimeout)
    }

    /// A request head is complete and its exchange starts.
    mutating func exchangeStarted() {
        self.waiting = .nothing
    }

    /// The pending check ran at `now`.
    mutating func checkRan(now: NIODeadline) -> CheckOutcome {
        self.checkAt = nil
        switch self.waiting {
        case .nothing:
            return .nothing
        case _ where self.deadline > now:
            self.checkAt = self.deadline
            return .checkAgain(at: self.deadline)
        case .nextRequest:
            self.waiting = .nothing
            return .closeIdleConnection
        case .restOfHead:
            self.waiting = .nothing
            return .headTimedOut
        }
    }

    private mutating func wait(for waiting: Waiting, until deadline: NIODeadline) -> NIODeadline? {
        self.waiting = waiting
        self.deadline = deadline
        if let checkAt = self.checkAt, checkAt <= deadline { return nil }
        self.checkAt = deadline
        return deadline
    }
}
