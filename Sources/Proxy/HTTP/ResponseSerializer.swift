import NIOCore
import NIOHTTP1

/// Writes responses to the client as bytes: the head, and the body in the framing the
/// `ResponsePlanner` chose. Doing this in the exchange handler saves a pipeline hop (and a
/// type-erased message) for every part of every response.
struct ResponseSerializer {
    /// Chunked framing for the body of the response being written.
    private var chunker = ChunkedEncoder()

    /// The client's head for an origin response, ending with the empty line; the body that
    /// follows is framed as the plan says.
    mutating func head(_ plan: ResponsePlan, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.capacity(for: plan))
        self.head(plan, into: &buffer)
        return buffer
    }

    /// The same, written into `buffer` (sized by the caller, from `capacity(for:)`).
    mutating func head(_ plan: ResponsePlan, into buffer: inout ByteBuffer) {
        self.chunker.begin(chunked: plan.clientFraming == .chunked)
        Self.encode(plan, into: &buffer)
    }

    /// Room for the head of `plan` (the origin's head, and the fields the proxy adds): the
    /// most `encode` asks for, so the buffer does not grow while the head is written. (A head
    /// normalised line by line, which is rare, may still make it grow: a missing reason
    /// phrase is filled in, a missing space added.)
    static func capacity(for plan: ResponsePlan) -> Int {
        plan.head.bytes.readableBytes + Self.addedFieldsLength(plan)
    }

    /// An origin head as the client gets it: status line and reason as sent, the origin's field
    /// lines copied less hop-by-hop ones, then the proxy's own fields.
    static func encode(_ plan: ResponsePlan, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.capacity(for: plan))
        Self.encode(plan, into: &buffer)
        return buffer
    }

    static func encode(_ plan: ResponsePlan, into buffer: inout ByteBuffer) {
        let head = plan.head
        let rewrite = head.fields.hasHopByHop || plan.dropsContentLength
        let added = Self.addedFieldsLength(plan)
        if head.isCanonical {
            // Status line and field lines are as this serializer would write them: they go
            // as they came, in a run or two around the lines that are dropped, and the whole
            // head is written with one capacity check.
            head.bytes.withUnsafeReadableBytes { all in
                ByteWriter.write(into: &buffer, longest: head.fieldLines.upperBound + added) { writer in
                    Self.copyLines(all, of: head, dropping: rewrite ? plan : nil, to: &writer)
                    Self.writeAddedFields(plan, to: &writer)
                }
            }
            return
        }
        buffer.writeStaticString("HTTP/1.1 ")
        Self.writeStatusCode(head.status, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        if head.reason.isEmpty {
            buffer.writeString(HTTPResponseStatus(statusCode: head.status).reasonPhrase)
        } else {
            buffer.writeImmutableBuffer(
                head.bytes.getSlice(at: head.bytes.readerIndex + head.reason.lowerBound, length: head.reason.count)!)
        }
        buffer.writeStaticString("\r\n")
        Self.writeFields(of: head, dropping: rewrite ? plan : nil, to: &buffer)
        ByteWriter.write(into: &buffer, longest: added) { Self.writeAddedFields(plan, to: &$0) }
    }

    /// Copies a canonical head from its status line to its last field line, leaving out the
    /// lines `plan` drops (if given): each run of kept lines is one copy.
    private static func copyLines(
        _ all: UnsafeRawBufferPointer, of head: OriginResponseHead, dropping plan: ResponsePlan?,
        to writer: inout ByteWriter
    ) {
        func copy(_ range: Range<Int>) {
            if !range.isEmpty { writer.bytes(UnsafeRawBufferPointer(rebasing: all[range])) }
        }
        guard let plan else {
            copy(0..<head.fieldLines.upperBound)
            return
        }
        var runStart = 0
        // The usual case: only hop-by-hop lines go, and the parser noted where they are.
        if !plan.dropsContentLength && head.fields.connectionListed.isEmpty
            && head.hopByHopLines.forEach({ line in
                copy(runStart..<line.lowerBound)
                runStart = line.upperBound
            })
        {
            copy(runStart..<head.fieldLines.upperBound)
            return
        }
        var index = 0
        // A name the parser did not recognise is dropped only if `Connection` lists it.
        let unrecognisedAreKept = head.fields.connectionListed.isEmpty ? head.recognisedLines : nil
        head.forEachFieldLine(in: all) { line, name in
            defer { index += 1 }
            if let recognised = unrecognisedAreKept, recognised & (1 << UInt64(index)) == 0 { return }
            guard head.fields.isDropped(name: name) || (plan.dropsContentLength && FieldName(name) == .contentLength)
            else { return }
            copy(runStart..<line.lowerBound)
            runStart = line.upperBound
        }
        copy(runStart..<head.fieldLines.upperBound)
    }

    /// The origin's field lines one by one, normalised, less what `plan` drops (if given).
    private static func writeFields(
        of head: OriginResponseHead, dropping plan: ResponsePlan?, to buffer: inout ByteBuffer
    ) {
        let fields = head.fields
        head.forEachField { name, value in
            if let plan {
                if fields.isDropped(name: name) { return }
                if plan.dropsContentLength && FieldName(name) == .contentLength { return }
            }
            buffer.writeBytes(name)
            buffer.writeStaticString(": ")
            buffer.writeBytes(value)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The longest the proxy's own fields can be.
    private static func addedFieldsLength(_ plan: ResponsePlan) -> Int {
        96 + plan.via.utf8.count + (plan.upgrade?.utf8.count ?? 0)
    }

    /// The proxy's own fields, then the empty line.
    private static func writeAddedFields(_ plan: ResponsePlan, to writer: inout ByteWriter) {
        if plan.addsChunked { writer.text("Transfer-Encoding: chunked\r\n" as StaticString) }
        if let connection = plan.connection {
            writer.text("Connection: " as StaticString)
            writer.text(connection)
            writer.text("\r\n" as StaticString)
        }
        if let upgrade = plan.upgrade {
            writer.text("Upgrade: " as StaticString)
            writer.text(upgrade)
            writer.text("\r\n" as StaticString)
        }
        writer.text("Via: " as StaticString)
        writer.text(plan.via)
        writer.text("\r\n\r\n" as StaticString)
    }

    private static func writeStatusCode(_ code: Int, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
    }

    static func encode(_ head: HTTPResponseHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeStaticString("HTTP/1.1 ")
        Self.writeStatusCode(Int(head.status.code), to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(head.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in head.headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The framing that goes before a body part (nil when the part goes as it is).
    mutating func chunkPrefix(for part: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        self.chunker.prefix(for: part, allocator: allocator)
    }

    /// What ends the body: the last chunk for chunked framing, nothing otherwise.
    mutating func end(allocator: ByteBufferAllocator) -> ByteBuffer? {
        self.chunker.end(allocator: allocator)
    }
}
