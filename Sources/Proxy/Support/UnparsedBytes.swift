import NIOCore

/// Bytes a parser could not use yet (the start of a head or of a chunk-size line), kept until
/// the next read, or handed on when the handler leaves for a tunnel. Both HTTP handlers parse
/// in place and keep their leftovers this way.
struct UnparsedBytes {
    private var kept: ByteBuffer?

    /// How many bytes are kept.
    var count: Int { self.kept?.readableBytes ?? 0 }

    /// `buffer`, with the kept bytes in front of it. The kept bytes are let go of first, so the
    /// append does not copy storage that is still shared.
    mutating func prepended(to buffer: ByteBuffer) -> ByteBuffer {
        guard var joined = self.kept else { return buffer }
        self.kept = nil
        var buffer = buffer
        joined.writeBuffer(&buffer)
        return joined
    }

    /// Keeps what the parser left of a read (nothing, if it used every byte).
    mutating func keep(_ rest: ByteBuffer) {
        self.kept = rest.readableBytes > 0 ? rest : nil
    }

    /// The kept bytes, no longer kept; nil if there are none.
    mutating func take() -> ByteBuffer? {
        defer { self.kept = nil }
        return self.count > 0 ? self.kept : nil
    }
}
