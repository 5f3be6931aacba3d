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
    var contentType: String?
    var policy: String?

    /// Appends the line (with its newline) to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        let seconds = self.startMillis / 1000
        let millis = self.startMillis % 1000
        Self.writeDecimal(seconds, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "."))
        Self.writeDecimal(millis, minimumDigits: 3, to: &buffer)
        // Squid right-aligns the elapsed time in a field of 6 after one space.
        buffer.writeRepeatingByte(UInt8(ascii: " "), count: max(1, 7 - Self.digitCount(self.elapsedMillis)))
        Self.writeDecimal(self.elapsedMillis, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.client)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.action)
        buffer.writeInteger(UInt8(ascii: "/"))
        Self.writeDecimal(Int64(self.status), minimumDigits: 3, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(Int64(self.bytes), to: &buffer)
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
        if let policy = self.policy {
            buffer.writeInteger(UInt8(ascii: " "))
            Self.writeField(policy, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    private static func digitCount(_ value: Int64) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    /// Writes a non-negative integer in decimal without creating a String, straight into the
    /// buffer's storage (one capacity check, not one per digit).
    private static func writeDecimal(_ value: Int64, minimumDigits: Int = 1, to buffer: inout ByteBuffer) {
        let value = max(0, value)
        let digits = max(minimumDigits, Self.digitCount(value))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { storage in
            var rest = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                storage[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            return digits
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Writes a field with spaces and control characters escaped, so one entry stays one line
    /// of space-separated fields whatever the client sent.
    private static func writeField(_ value: String, to buffer: inout ByteBuffer) {
        if value.isEmpty {
            buffer.writeInteger(UInt8(ascii: "-"))
            return
        }
        if value.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) {
            buffer.writeString(value)
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
