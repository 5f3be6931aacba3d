import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import Proxy

struct ReusableWriteBufferTests {
    private func storage(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
    }

    /// Takes a buffer, writes `text` into it and writes it to `channel`, as a handler does;
    /// returns where its bytes are.
    private func send(
        _ text: String, with reusable: inout ReusableWriteBuffer, to channel: EmbeddedChannel, flush: Bool
    ) throws -> UnsafeRawPointer? {
        var buffer = reusable.take(capacity: 64, allocator: channel.allocator)
        #expect(buffer.readableBytes == 0)
        buffer.writeString(text)
        let storage = self.storage(buffer)
        if flush { try channel.writeOutbound(buffer) } else { channel.write(buffer, promise: nil) }
        reusable.keep(buffer)
        return storage
    }

    @Test func theStorageIsUsedAgainOnceTheChannelHasLetGoOfIt() throws {
        let channel = EmbeddedChannel()
        defer { channel.tearDown() }
        var reusable = ReusableWriteBuffer()
        let first = try self.send("first", with: &reusable, to: channel, flush: true)
        // Written, read and dropped: the kept buffer is the storage's only owner again.
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "first")
        let second = try self.send("second", with: &reusable, to: channel, flush: true)
        #expect(second == first)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "second")
        _ = try channel.finish()
    }

    @Test func aBufferStillBeingWrittenIsNotOverwritten() throws {
        let channel = EmbeddedChannel()
        defer { channel.tearDown() }
        var reusable = ReusableWriteBuffer()
        let first = try self.send("first", with: &reusable, to: channel, flush: false)
        let second = try self.send("second", with: &reusable, to: channel, flush: false)
        #expect(second != first)
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "first")
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "second")
        _ = try channel.finish()
    }

    @Test func largeOrTooSmallBuffersAreNotReused() {
        var reusable = ReusableWriteBuffer()
        let allocator = ByteBufferAllocator()
        let large = reusable.take(capacity: ReusableWriteBuffer.maxKeptCapacity * 2, allocator: allocator)
        reusable.keep(large)
        let next = reusable.take(capacity: 16, allocator: allocator)
        #expect(self.storage(next) != self.storage(large))
        reusable.keep(next)
        let bigger = reusable.take(capacity: next.capacity + 1, allocator: allocator)
        #expect(bigger.capacity > next.capacity)
    }
}
