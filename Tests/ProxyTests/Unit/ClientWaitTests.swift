import NIOCore
import Testing

@testable import Proxy

struct ClientWaitTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func wait() -> ClientWait { ClientWait(idleTimeout: .seconds(60), headerTimeout: .seconds(30)) }

    @Test func aNewConnectionClosesWhenIdleForTheIdleTimeout() {
        var wait = self.wait()
        #expect(wait.awaitRequest(now: self.start, headBegun: false) == self.start + .seconds(60))
        #expect(wait.checkRan(now: self.start + .seconds(60)) == .closeIdleConnection)
    }

    @Test func aHeadThatBeganHasTheHeaderTimeoutFromItsFirstBytes() {
        var wait = self.wait()
        _ = wait.awaitRequest(now: self.start, headBegun: false)
        // The header timeout ends before the idle check: the check is brought forward.
        #expect(wait.headBegan(now: self.start + .seconds(10)) == self.start + .seconds(40))
        #expect(wait.checkRan(now: self.start + .seconds(40)) == .headTimedOut)
    }

    @Test func moreBytesOfTheSameHeadDoNotRestartIt() {
        var wait = self.wait()
        _ = wait.awaitRequest(now: self.start, headBegun: true)
        #expect(wait.headBegan(now: self.start + .seconds(20)) == nil)
        #expect(wait.checkRan(now: self.start + .seconds(30)) == .headTimedOut)
    }

    @Test func keepAliveRequestsCostNoTimerAndTheCheckMovesOn() {
        var wait = self.wait()
        _ = wait.awaitRequest(now: self.start, headBegun: false)
        // Requests come and go within the minute: the pending check still covers them.
        for second in 1...50 {
            wait.exchangeStarted()
            #expect(wait.awaitRequest(now: self.start + .seconds(Int64(second)), headBegun: false) == nil)
        }
        // At the first deadline the connection is not idle: the check runs again later.
        #expect(wait.checkRan(now: self.start + .seconds(60)) == .checkAgain(at: self.start + .seconds(110)))
        #expect(wait.checkRan(now: self.start + .seconds(110)) == .closeIdleConnection)
    }

    @Test func nothingIsTimedWhileAnExchangeRuns() {
        var wait = self.wait()
        _ = wait.awaitRequest(now: self.start, headBegun: true)
        wait.exchangeStarted()
        #expect(wait.checkRan(now: self.start + .seconds(3600)) == .nothing)
        // The next wait needs a check of its own again.
        #expect(wait.awaitRequest(now: self.start + .seconds(3600), headBegun: false) == self.start + .seconds(3660))
    }
}
