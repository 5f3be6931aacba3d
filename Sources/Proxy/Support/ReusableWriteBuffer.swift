import NIOCore

/// A write buffer a handler keeps from one message to the next. A new `ByteBuffer` costs two
/// allocations (its storage object and its bytes); once the channel has written the last one
/// and let it go, its storage is cleared and filled again instead.
struct ReusableWriteBuffer {
    /// Larger buffers are not kept: an idle connection should not hold much memory.
    static let maxKeptCapacity = 4096

    private var spare: ByteBuffer?

    /// An empty buffer with room for at least `capacity` bytes. It is the kept one when that is
    /// large enough; `clear()` then reuses its storage if the channel has let go of it, or
    /// allocates afresh if a write of it is still pending.
    mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        if var buffer = self.spare {
            self.spare = nil
            if buffer.capacity >= capacity {
                buffer.clear()
                return buffer
            }
        }
        return allocator.buffer(capacity: capacity)
    }

    /// Keeps `buffer`, just handed to the channel, for next time (unless it is large).
    mutating func keep(_ buffer: ByteBuffer) {
        self.spare = buffer.capacity <= Self.maxKeptCapacity ? buffer : nil
    }
}
