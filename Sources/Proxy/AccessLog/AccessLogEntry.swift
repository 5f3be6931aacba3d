import NIOCore

/// One finished exchange, as Squid's native access log shows it:
/// `time.millis elapsed client action/status bytes method URL user hierarchy/peer type`,
/// followed, for requests the policy decided, by an eleventh field with the verdict and the
/// rule (`allow,group=Default,rule=default`); tools that read Squid's ten fields ignore it.
struct AccessLogEntry {
    /// Wall-clock start, milliseconds since the epoch.
    var startMillis: Int64
    var elapsedMillis: Int64
    var client: String
    /// Squid result code: TCP_MISS, TCP_TUNNEL, TCP_DENIED, NONE_NONE …
    var action: String
    var status: Int
    var bytes: Int
    var method: String
    var url: String
    var user: String = "-"
    /// `HIER_DIRECT` with the origin's address, or `HIER_NONE` when nothing was contacted.
    var peer: String?
    /// The response's media type, as bytes of its head (`-` when there is none).
    var contentType: ByteBuffer?
    var policy: String?

    /// Appends the line (with its newline) to `buffer`: one capacity check for the whole line
    /// (its longest possible length), then the bytes are stored straight into the buffer.
    func write(to buffer: inout ByteBuffer) {
        let escapable =
            self.url.utf8.count + self.user.utf8.count + (self.contentType?.readableBytes ?? 1)
            + (self.policy?.utf8.count ?? 0)
        let longest =
            128 + self.client.utf8.count + self.action.utf8.count + self.method.utf8.count
            + (self.peer?.utf8.count ?? 0)
            + 3 * escapable
        ByteWriter.write(into: &buffer, longest: longest) { line in
            line.decimal(self.startMillis / 1000)
            line.byte(UInt8(ascii: "."))
            line.decimal(self.startMillis % 1000, minimumDigits: 3)
            // Squid right-aligns the elapsed time in a field of 6 after one space.
            line.decimal(self.elapsedMillis, minimumDigits: 6, pad: UInt8(ascii: " "), leadingSpace: true)
            line.byte(UInt8(ascii: " "))
            line.text(self.client)
            line.byte(UInt8(ascii: " "))
            line.text(self.action)
            line.byte(UInt8(ascii: "/"))
            line.decimal(Int64(self.status), minimumDigits: 3)
            line.byte(UInt8(ascii: " "))
            line.decimal(Int64(self.bytes))
            line.byte(UInt8(ascii: " "))
            line.text(self.method)
            line.byte(UInt8(ascii: " "))
            line.field(self.url)
            line.byte(UInt8(ascii: " "))
            line.field(self.user)
            line.byte(UInt8(ascii: " "))
            if let peer = self.peer {
                line.text("HIER_DIRECT/")
                line.text(peer)
            } else {
                line.text("HIER_NONE/-")
            }
            line.byte(UInt8(ascii: " "))
            if let contentType = self.contentType {
                line.field(contentType)
            } else {
                line.byte(UInt8(ascii: "-"))
            }
            if let policy = self.policy {
                line.byte(UInt8(ascii: " "))
                line.field(policy)
            }
            line.byte(UInt8(ascii: "\n"))
        }
    }
}

extension ByteWriter {
    private static let hexDigits: StaticString = "0123456789ABCDEF"

    /// A log field with spaces and control characters escaped (`%20`), so one entry stays one
    /// line of space-separated fields whatever the client sent; `-` when empty.
    mutating func field(_ value: String) {
        // A native string is read in place (no copy of it, as `withUTF8` on a `var` would be).
        if value.utf8.withContiguousStorageIfAvailable({ self.escaped($0) }) == nil {
            var copy = value
            copy.withUTF8 { self.escaped($0) }
        }
    }

    /// The same for a field that is bytes of a message (a response's media type).
    mutating func field(_ value: ByteBuffer) {
        value.withUnsafeReadableBytes { self.escaped($0.assumingMemoryBound(to: UInt8.self)) }
    }

    private mutating func escaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.isEmpty {
            self.byte(UInt8(ascii: "-"))
        } else if !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            self.bytes(bytes)
        } else {
            for byte in bytes {
                if byte <= 0x20 || byte == 0x7F {
                    self.byte(UInt8(ascii: "%"))
                    self.byte(Self.hexDigits.utf8Start[Int(byte >> 4)])
                    self.byte(Self.hexDigits.utf8Start[Int(byte & 0xF)])
                } else {
                    self.byte(byte)
                }
            }
        }
    }
}
