import NIOCore

/// One finished exchange, as Squid's native access log shows it:
/// `time.millis elapsed client action/status bytes method URL user hierarchy/peer type`.
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
    var contentType: String?

    /// Appends the line (with its newline) to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        let seconds = self.startMillis / 1000
        let millis = self.startMillis % 1000
        buffer.writeString(String(seconds))
        buffer.writeInteger(UInt8(ascii: "."))
        if millis < 100 { buffer.writeInteger(UInt8(ascii: "0")) }
        if millis < 10 { buffer.writeInteger(UInt8(ascii: "0")) }
        buffer.writeString(String(millis))
        let elapsed = String(self.elapsedMillis)
        buffer.writeRepeatingByte(UInt8(ascii: " "), count: max(1, 7 - elapsed.utf8.count))
        buffer.writeString(elapsed)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.client)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.action)
        buffer.writeInteger(UInt8(ascii: "/"))
        if self.status < 100 { buffer.writeInteger(UInt8(ascii: "0")) }
        if self.status < 10 { buffer.writeInteger(UInt8(ascii: "0")) }
        buffer.writeString(String(self.status))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(String(self.bytes))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.method)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeField(self.url, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeField(self.user, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        if let peer = self.peer {
            buffer.writeString("HIER_DIRECT/")
            buffer.writeString(peer)
        } else {
            buffer.writeString("HIER_NONE/-")
        }
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeField(self.contentType ?? "-", to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Writes a field with spaces and control characters escaped, so one entry stays one line
    /// of space-separated fields whatever the client sent.
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func writeField(_ value: String, to buffer: inout ByteBuffer) {
        if value.isEmpty {
            buffer.writeInteger(UInt8(ascii: "-"))
            return
        }
        for byte in value.utf8 {
            if byte <= 0x20 || byte == 0x7F {
                buffer.writeInteger(UInt8(ascii: "%"))
                buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
                buffer.writeInteger(Self.hexDigits[Int(byte & 0xF)])
            } else {
                buffer.writeInteger(byte)
            }
        }
    }
}
