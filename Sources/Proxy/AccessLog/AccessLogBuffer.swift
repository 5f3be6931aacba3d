import NIOCore

/// Access log lines of one event loop, collected in memory and handed to the writer in
/// batches (every 100 ms, or at 64 KiB), so a request costs a formatted line and no syscall.
final class AccessLogBuffer {
    private let loop: any EventLoop
    private let writer: AccessLogWriter?
    private var buffer: ByteBuffer
    private var flushScheduled = false
    private static let batchBytes = 64 * 1024

    init(loop: any EventLoop, writer: AccessLogWriter?) {
        self.loop = loop
        self.writer = writer
        self.buffer = ByteBufferAllocator().buffer(capacity: writer == nil ? 0 : Self.batchBytes)
    }

    func record(_ entry: AccessLogEntry) {
        guard self.writer != nil else { return }
        entry.write(to: &self.buffer)
        if self.buffer.readableBytes >= Self.batchBytes {
            self.flush()
        } else if !self.flushScheduled {
            self.flushScheduled = true
            let loopBound = NIOLoopBound(self, eventLoop: self.loop)
            self.loop.scheduleTask(in: .milliseconds(100)) {
                loopBound.value.flushScheduled = false
                loopBound.value.flush()
            }
        }
    }

    func flush() {
        guard let writer = self.writer, self.buffer.readableBytes > 0 else { return }
        writer.submit(self.buffer)
        self.buffer = ByteBufferAllocator().buffer(capacity: Self.batchBytes)
    }
}

@available(*, unavailable)
extension AccessLogBuffer: Sendable {}
