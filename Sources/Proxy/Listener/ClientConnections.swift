import Atomics
import NIOConcurrencyHelpers
import NIOCore

/// Every open client connection of the proxy, across all listeners: the count behind the
/// connection limit, and the list that graceful shutdown quiesces and, at the deadline, closes.
///
/// Touched once when a connection opens and once when it closes (never per request); the
/// registry is behind a lock because connections open on one loop and close on another.
final class ClientConnections: Sendable {
    let limit: Int
    private let count = ManagedAtomic(0)
    private let state = NIOLockedValueBox(State())

    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        /// Listeners holding back an accept until a slot frees up.
        var paused: [@Sendable () -> Void] = []
        /// Fulfilled when the last connection closes during shutdown.
        var drained: EventLoopPromise<Void>?
    }

    init(limit: Int) {
        self.limit = limit
    }

    var openCount: Int { self.count.load(ordering: .relaxed) }
    var mayAccept: Bool { self.openCount < self.limit }

    func accepted(_ channel: any Channel) {
        self.count.wrappingIncrement(ordering: .relaxed)
        let id = ObjectIdentifier(channel)
        self.state.withLockedValue { $0.open[id] = channel }
        channel.closeFuture.whenComplete { _ in self.closed(id) }
    }

    private func closed(_ id: ObjectIdentifier) {
        self.count.wrappingDecrement(ordering: .relaxed)
        let (wake, drained) = self.state.withLockedValue { state -> ([@Sendable () -> Void], EventLoopPromise<Void>?) in
            state.open[id] = nil
            let wake = state.paused
            state.paused = []
            let drained = state.open.isEmpty ? state.drained : nil
            if drained != nil { state.drained = nil }
            return (wake, drained)
        }
        for resume in wake { resume() }
        drained?.succeed()
    }

    /// Asks to be called when a connection closes (a listener at the limit).
    func whenSlotFrees(_ resume: @escaping @Sendable () -> Void) {
        let runNow = self.state.withLockedValue { state -> Bool in
            if self.mayAccept { return true }
            state.paused.append(resume)
            return false
        }
        if runNow { resume() }
    }

    /// Tells every connection to finish its exchange and close; the future completes when
    /// none is left.
    func quiesce(on loop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        let open = self.state.withLockedValue { state -> [any Channel] in
            if state.open.isEmpty {
                promise.succeed()
            } else if let earlier = state.drained {
                // Asked again (the grace period ran out): one promise serves both.
                earlier.futureResult.cascade(to: promise)
            } else {
                state.drained = promise
            }
            return Array(state.open.values)
        }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        return promise.futureResult
    }

    /// Closes whatever is still open (the grace period is over).
    func closeAll() {
        let open = self.state.withLockedValue { Array($0.open.values) }
        for channel in open { channel.close(promise: nil) }
    }
}
