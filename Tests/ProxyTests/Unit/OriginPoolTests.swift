import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import Proxy

struct OriginPoolTests {
    private let key = OriginPool.Key(host: "origin.example", port: 80)

    /// An active origin connection with its handler, on `loop`.
    private func connection(on loop: EmbeddedEventLoop) throws -> (EmbeddedChannel, OriginConnectionHandler) {
        let handler = OriginConnectionHandler(readTimeout: .seconds(30))
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        return (channel, handler)
    }

    /// A pool that was given two connections and leased them back, most recent first (checked).
    private func twoReleasedAndLeasedAgain() throws -> (
        OriginPool, (EmbeddedChannel, OriginConnectionHandler), (EmbeddedChannel, OriginConnectionHandler)
    ) {
        let loop = EmbeddedEventLoop()
        let pool = OriginPool(loop: loop, maxIdlePerKey: 4, idleTimeout: .seconds(60))
        let first = try self.connection(on: loop)
        let second = try self.connection(on: loop)
        pool.release(first.0, handler: first.1, key: self.key)
        pool.release(second.0, handler: second.1, key: self.key)
        #expect(pool.lease(self.key)?.1 === second.1)
        #expect(pool.lease(self.key)?.1 === first.1)
        return (pool, first, second)
    }

    @Test func aReleasedConnectionIsLeasedAgainMostRecentFirst() throws {
        let (pool, (first, _), (second, _)) = try self.twoReleasedAndLeasedAgain()
        defer {
            first.tearDown()
            second.tearDown()
        }
        #expect(pool.lease(self.key) == nil)
        #expect(pool.lease(OriginPool.Key(host: "other.example", port: 80)) == nil)
    }

    @Test func anEmptiedListGoesWhenItsLastConnectionCloses() throws {
        let loop = EmbeddedEventLoop()
        let pool = OriginPool(loop: loop, maxIdlePerKey: 4, idleTimeout: .seconds(60))
        let (channel, handler) = try self.connection(on: loop)
        defer { channel.tearDown() }
        pool.release(channel, handler: handler, key: self.key)
        #expect(pool.lease(self.key)?.1 === handler)
        #expect(pool.originsKept == 1)  // leased: it may come back
        try channel.close().wait()
        #expect(pool.originsKept == 0)
    }

    /// A connection comes back to the list it left (its handler keeps it), unless that list
    /// has left the pool meanwhile: then it goes to the pool's list for its key.
    @Test func aConnectionWhoseListLeftThePoolComesBackToTheNewOne() throws {
        let (pool, (first, firstHandler), (second, _)) = try self.twoReleasedAndLeasedAgain()
        defer {
            first.tearDown()
            second.tearDown()
        }
        // Both leased; one closes, and the emptied list leaves the pool.
        try second.close().wait()
        #expect(pool.originsKept == 0)
        pool.release(first, handler: firstHandler, key: self.key)
        #expect(pool.originsKept == 1)
        #expect(pool.lease(self.key)?.1 === firstHandler)
        // And again, through the list it now keeps.
        pool.release(first, handler: firstHandler, key: self.key)
        #expect(pool.lease(self.key)?.1 === firstHandler)
    }

    @Test func anIdleConnectionThatClosesIsForgotten() throws {
        let loop = EmbeddedEventLoop()
        let pool = OriginPool(loop: loop, maxIdlePerKey: 4, idleTimeout: .seconds(60))
        let (channel, handler) = try self.connection(on: loop)
        defer { channel.tearDown() }
        pool.release(channel, handler: handler, key: self.key)
        try channel.close().wait()
        #expect(pool.lease(self.key) == nil)
        #expect(pool.originsKept == 0)
    }

    @Test func onlyMaxIdlePerKeyAreKept() throws {
        let loop = EmbeddedEventLoop()
        let pool = OriginPool(loop: loop, maxIdlePerKey: 1, idleTimeout: .seconds(60))
        let (first, firstHandler) = try self.connection(on: loop)
        let (second, secondHandler) = try self.connection(on: loop)
        defer {
            first.tearDown()
            second.tearDown()
        }
        pool.release(first, handler: firstHandler, key: self.key)
        pool.release(second, handler: secondHandler, key: self.key)
        #expect(!second.isActive)
        #expect(pool.lease(self.key)?.1 === firstHandler)
    }
}
