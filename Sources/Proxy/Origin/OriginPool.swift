import NIOCore

/// Idle keep-alive origin connections of one event loop, keyed by host and port.
///
/// Used only on its own event loop (no locks): every exchange leases from the pool of the
/// loop its client connection lives on, so a pooled connection is always loop-local.
final class OriginPool {
    struct Key: Hashable {
        var host: String
        var port: Int
    }

    fileprivate struct Idle {
        var channel: any Channel
        var handler: OriginConnectionHandler
        var since: NIODeadline
    }

    /// The idle connections to one origin, most recently used last. A class, so leasing and
    /// releasing change it in place through a plain dictionary read: no copy of the list, and
    /// no dictionary mutation (whose accessor allocates) on every request. A list stays while
    /// any connection to its origin may come back, and goes when one closes and leaves it empty.
    ///
    /// A connection's handler keeps its list (`OriginConnectionHandler.idleList`), so coming
    /// back costs no hashing of the key: one hash per request (the lease), not two.
    final class IdleList {
        fileprivate var entries: [Idle] = []
        /// Still the pool's list for its key (an emptied list leaves the pool: a connection
        /// holding it looks its key up again).
        fileprivate var isInPool = true
    }

    private let loop: any EventLoop
    private let maxIdlePerKey: Int
    private let idleTimeout: TimeAmount
    private var idle: [Key: IdleList] = [:]

    init(loop: any EventLoop, maxIdlePerKey: Int, idleTimeout: TimeAmount) {
        self.loop = loop
        self.maxIdlePerKey = maxIdlePerKey
        self.idleTimeout = idleTimeout
    }

    /// The most recently used live connection to `key`, if any, that has not been idle too long
    /// at `now` (the caller's clock reading, or the loop's).
    func lease(_ key: Key, now: NIODeadline? = nil) -> (any Channel, OriginConnectionHandler)? {
        self.loop.assertInEventLoop()
        guard let list = self.idle[key] else { return nil }
        let now = now ?? self.loop.now
        while let entry = list.entries.popLast() {
            if entry.channel.isActive && entry.since + self.idleTimeout > now {
                return (entry.channel, entry.handler)
            }
            entry.channel.close(promise: nil)
        }
        return nil
    }

    /// Returns a connection whose last exchange completed cleanly (at `now`, the caller's clock
    /// reading, or the loop's).
    func release(_ channel: any Channel, handler: OriginConnectionHandler, key: Key, now: NIODeadline? = nil) {
        self.loop.assertInEventLoop()
        handler.detach()
        let list: IdleList
        if let known = handler.idleList, known.isInPool {
            list = known
        } else if let existing = self.idle[key] {
            list = existing
            handler.idleList = list
        } else {
            list = IdleList()
            self.idle[key] = list
            handler.idleList = list
        }
        guard list.entries.count < self.maxIdlePerKey else {
            channel.close(promise: nil)
            return
        }
        list.entries.append(Idle(channel: channel, handler: handler, since: now ?? self.loop.now))
        if handler.onClose == nil {
            // Set once per connection: a close while idle removes it; while leased it finds
            // nothing, but an emptied list goes. The handler owns this closure, so it is alive
            // whenever it runs (`unowned`: a weak reference would put the handler's reference
            // counts on the runtime's slow path).
            handler.onClose = { [weak self, unowned handler] in
                guard let self else { return }
                self.forget(handler: handler, key: key)
            }
        }
    }

    private func forget(handler: OriginConnectionHandler, key: Key) {
        guard let list = self.idle[key] else { return }
        list.entries.removeAll { $0.handler === handler }
        if list.entries.isEmpty {
            list.isInPool = false
            self.idle[key] = nil
        }
    }

    /// How many origins the pool keeps a list for (tests: lists do not outlive connections).
    var originsKept: Int { self.idle.count }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        for (_, list) in self.idle {
            list.isInPool = false
            for entry in list.entries {
                entry.handler.onClose = nil
                entry.channel.close(promise: nil)
            }
            // (An idle entry's handler holds its list: emptied, the list holds no handler.)
            list.entries = []
        }
        self.idle = [:]
    }

}

@available(*, unavailable)
extension OriginPool: Sendable {}

/// One `OriginPool` per event loop, built before the listeners start.
struct OriginPools: Sendable {
    private let pools: PerEventLoop<OriginPool>

    init(group: any EventLoopGroup, maxIdlePerKey: Int, idleTimeout: TimeAmount) {
        self.pools = PerEventLoop(group: group) {
            OriginPool(loop: $0, maxIdlePerKey: maxIdlePerKey, idleTimeout: idleTimeout)
        }
    }

    /// Closes every idle pooled connection, each on its own loop (shutdown).
    func closeAll(group: any EventLoopGroup) async {
        await self.pools.onEachLoop { $0.closeAll() }
    }

    func pool(for loop: any EventLoop) -> OriginPool { self.pools.value(for: loop) }
}
