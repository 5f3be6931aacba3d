import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes access log batches to a file or standard output on its own thread, so an event
/// loop never waits on the disk. Batches arrive from the per-loop `AccessLogBuffer`s.
final class AccessLogWriter: Sendable {
    private let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    private let thread: NIOThreadPool

    init(target: AccessLogTarget) throws {
        switch target {
        case .off:
            throw AccessLogError(detail: "no writer for a disabled access log")
        case .stdout:
            self.fileDescriptor = STDOUT_FILENO
            self.ownsDescriptor = false
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                throw AccessLogError(detail: "cannot open access log '\(path)': \(String(cString: strerror(errno)))")
            }
            self.fileDescriptor = fd
            self.ownsDescriptor = true
        }
        // One thread: batches are written in the order they were handed over.
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    /// Hands a batch over; returns at once.
    func submit(_ batch: ByteBuffer) {
        let fd = self.fileDescriptor
        // Written whatever the pool's state: a batch queued as the pool shuts down is still
        // written (the pool runs it as "cancelled"), so no line is lost at shutdown.
        self.thread.submit { _ in
            batch.withUnsafeReadableBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// Writes what was submitted, then stops the writer thread.
    func shutdown() async {
        try? await self.thread.shutdownGracefully()
        if self.ownsDescriptor { close(self.fileDescriptor) }
    }
}

struct AccessLogError: Error, CustomStringConvertible {
    let detail: String
    var description: String { self.detail }
}
