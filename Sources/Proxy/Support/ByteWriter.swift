import NIOCore

/// Stores bytes straight into memory known to be large enough: a message is measured first
/// (its longest possible length), then written with one capacity check (`write(into:)`)
/// instead of one per field. A message that comes out longer than measured stops the process
/// rather than write past the buffer. Used for access log lines, origin request heads,
/// canonical response heads and `Host` values.
struct ByteWriter {
    private let storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ storage: UnsafeMutableRawBufferPointer) { self.storage = storage }

    /// Runs `body` on a writer over `buffer`'s writable bytes, after making room for
    /// `longest` of them, and moves the writer index past what it wrote.
    static func write(into buffer: inout ByteBuffer, longest: Int, _ body: (inout ByteWriter) -> Void) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: longest) { storage in
            var writer = ByteWriter(storage)
            body(&writer)
            return writer.count
        }
    }

    mutating func byte(_ value: UInt8) {
        precondition(self.count < self.storage.count, "ByteWriter: message longer than measured")
        self.storage[self.count] = value
        self.count += 1
    }

    mutating func text(_ value: String) {
        // A native string is read in place (no copy of it, as `withUTF8` on a `var` would be).
        if value.utf8.withContiguousStorageIfAvailable({ self.bytes($0) }) == nil {
            var copy = value
            copy.withUTF8 { self.bytes($0) }
        }
    }

    mutating func text(_ value: StaticString) {
        self.bytes(UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    mutating func bytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes(UnsafeRawBufferPointer(bytes))
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, let target = self.storage.baseAddress else { return }
        precondition(self.count + bytes.count <= self.storage.count, "ByteWriter: message longer than measured")
        (target + self.count).copyMemory(from: source, byteCount: bytes.count)
        self.count += bytes.count
    }

    /// A non-negative integer in decimal, left-padded to `minimumDigits` with `pad`; with
    /// `leadingSpace`, one space first whatever the width (Squid's elapsed-time column).
    mutating func decimal(
        _ value: Int64, minimumDigits: Int = 1, pad: UInt8 = UInt8(ascii: "0"), leadingSpace: Bool = false
    ) {
        var rest = UInt64(max(0, value))
        // One pass: the digits (19 at most) go back to front into a buffer on the stack.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            let digits = scratch.count - start
            if leadingSpace { self.byte(UInt8(ascii: " ")) }
            for _ in digits..<max(digits, minimumDigits) { self.byte(pad) }
            self.bytes(UnsafeBufferPointer(rebasing: scratch[start...]))
        }
    }
}
