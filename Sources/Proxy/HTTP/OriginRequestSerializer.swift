import NIOCore
import NIOHTTP1

/// Writes the request the origin gets, straight from the client's head: origin-form target,
/// HTTP/1.1, `Host` from the URL, the client's field lines less hop-by-hop ones (their names
/// and values copied as the bytes they came in), then the proxy's own (`Via`,
/// `X-Forwarded-For`, framing). No intermediate header list is built.
enum OriginRequestSerializer {
    static func head(_ plan: ForwardPlan, into buffer: inout ByteBuffer) {
        // Measured first (every client field could be kept, and `Via` and `X-Forwarded-For`
        // repeat earlier values once), then written with one capacity check.
        let fieldBytes = plan.client.fieldBytes
        let longest =
            plan.method.rawValue.utf8.count + plan.target.originForm.utf8.count + plan.target.host.utf8.count
            + 2 * fieldBytes + plan.via.utf8.count + plan.clientIP.utf8.count + (plan.upgrade?.utf8.count ?? 0) + 192
        ByteWriter.write(into: &buffer, longest: longest) { writer in
            Self.write(plan, to: &writer)
        }
    }

    private static func write(_ plan: ForwardPlan, to writer: inout ByteWriter) {
        writer.text(plan.method.rawValue)
        writer.byte(UInt8(ascii: " "))
        writer.text(plan.target.originForm)
        writer.text(" HTTP/1.1\r\nHost: " as StaticString)
        plan.target.writeHostHeader(to: &writer)
        writer.text("\r\n" as StaticString)

        // The client's `Via` and `X-Forwarded-For` values, joined as bytes (they go on unchanged).
        var via: [UInt8]?
        var forwardedFor: [UInt8]?
        let fields = plan.fields
        plan.client.forEachField { name, value in
            if fields.hasHopByHop && fields.isDropped(name: name) { return }
            switch FieldName(name) {
            case .host:
                return
            case .maxForwards where plan.maxForwards != nil:
                return
            case .via:
                Self.join(value, onto: &via)
                return
            case .xForwardedFor where plan.forwardedFor != .transparent:
                Self.join(value, onto: &forwardedFor)
                return
            default:
                break
            }
            writer.bytes(UnsafeRawBufferPointer(rebasing: name))
            writer.text(": " as StaticString)
            writer.bytes(UnsafeRawBufferPointer(rebasing: value))
            writer.text("\r\n" as StaticString)
        }
        if let maxForwards = plan.maxForwards {
            writer.text("Max-Forwards: " as StaticString)
            writer.decimal(Int64(maxForwards))
            writer.text("\r\n" as StaticString)
        }
        if plan.requestFraming == .chunked { writer.text("Transfer-Encoding: chunked\r\n" as StaticString) }
        if let upgrade = plan.upgrade {
            writer.text("Connection: Upgrade\r\n" as StaticString)
            Self.writeField("Upgrade", upgrade, to: &writer)
        }
        Self.writeField("Via: ", earlier: via, own: plan.via, to: &writer)
        if plan.forwardedFor == .append {
            Self.writeField("X-Forwarded-For: ", earlier: forwardedFor, own: plan.clientIP, to: &writer)
        }
        writer.text("\r\n" as StaticString)
    }

    private static func join(_ value: FieldLineSyntax.Bytes, onto list: inout [UInt8]?) {
        if list == nil {
            list = Array(value)
        } else {
            list!.append(contentsOf: ", ".utf8)
            list!.append(contentsOf: value)
        }
    }

    /// One field line for a field the proxy extends: the values the client sent (joined), then
    /// this hop's own.
    private static func writeField(
        _ nameAndColon: StaticString, earlier: [UInt8]?, own: String, to writer: inout ByteWriter
    ) {
        writer.text(nameAndColon)
        if let earlier {
            earlier.withUnsafeBytes { writer.bytes($0) }
            writer.text(", " as StaticString)
        }
        writer.text(own)
        writer.text("\r\n" as StaticString)
    }

    private static func writeField(_ name: String, _ value: String, to writer: inout ByteWriter) {
        writer.text(name)
        writer.text(": " as StaticString)
        writer.text(value)
        writer.text("\r\n" as StaticString)
    }
}

/// Chunked transfer coding for a body the proxy re-frames (RFC 9112 §7.1): a size line before
/// each part, the last chunk at the end. The CRLF that closes a chunk travels with the next.
struct ChunkedEncoder {
    private(set) var isActive = false
    private var wroteChunk = false

    mutating func begin(chunked: Bool) {
        self.isActive = chunked
        self.wroteChunk = false
    }

    /// The framing that goes before a body part (nil when the part goes as it is).
    mutating func prefix(for part: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.isActive, part.readableBytes > 0 else { return nil }
        var prefix = allocator.buffer(capacity: 20)
        if self.wroteChunk { prefix.writeStaticString("\r\n") }
        Self.writeHex(part.readableBytes, to: &prefix)
        prefix.writeStaticString("\r\n")
        self.wroteChunk = true
        return prefix
    }

    /// What ends the body: the last chunk, or nil when not chunked.
    mutating func end(allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.isActive else { return nil }
        var end = allocator.buffer(capacity: 8)
        if self.wroteChunk { end.writeStaticString("\r\n") }
        end.writeStaticString("0\r\n\r\n")
        self.isActive = false
        self.wroteChunk = false
        return end
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeHex(_ value: Int, to buffer: inout ByteBuffer) {
        var shift = max(0, (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4)
        while shift >= 0 {
            buffer.writeInteger(Self.hexDigits[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}
