import NIOCore

/// Writes ICAP header blocks: start line, the caller's fields in order, then `Encapsulated` (which
/// the encoder computes, so any `Encapsulated` field given is left out), the empty line, and the
/// encapsulated HTTP heads.
enum ICAPHeadSerializer {
    /// A request's header block and heads.
    static func write(
        _ head: ICAPRequestHead, _ heads: ICAPEncapsulatedHeads, into buffer: inout ByteBuffer
    ) throws(ICAPEncoderError) {
        guard !head.uri.isEmpty, head.uri.utf8.allSatisfy(ASCII.isVisibleByte) else {
            throw .invalidStartLine("the ICAP URI \(ICAPParseError.quoted(head.uri))")
        }
        buffer.writeString(head.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(head.uri)
        buffer.writeStaticString(" ")
        self.writeVersion(head.version, into: &buffer)
        buffer.writeStaticString("\r\n")
        try self.writeFields(head.headers, encapsulated: heads.laidOut, into: &buffer)
        self.writeHeads(heads, into: &buffer)
    }

    /// A response's header block and heads; `encapsulated` is nil for `100 Continue`, which c-icap
    /// (and RFC 3507 §4.5's example) sends as a bare status line.
    static func write(
        _ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads, writeEncapsulated: Bool, into buffer: inout ByteBuffer
    ) throws(ICAPEncoderError) {
        guard head.statusCode >= 100, head.statusCode <= 999, ASCII.isFieldValue(head.reasonPhrase) else {
            throw .invalidStartLine("the status \(head.statusCode) \(ICAPParseError.quoted(head.reasonPhrase))")
        }
        buffer.writeString("\(head.version) \(head.statusCode) \(head.reasonPhrase)\r\n")
        try self.writeFields(head.headers, encapsulated: writeEncapsulated ? heads.laidOut : nil, into: &buffer)
        self.writeHeads(heads, into: &buffer)
    }

    private static func writeVersion(_ version: ICAPVersion, into buffer: inout ByteBuffer) {
        if version == .icap1_0 {
            buffer.writeStaticString("ICAP/1.0")
        } else {
            buffer.writeString(version.description)
        }
    }

    private static func writeFields(
        _ headers: ICAPHeaders, encapsulated: Encapsulated?, into buffer: inout ByteBuffer
    ) throws(ICAPEncoderError) {
        for (name, value) in headers where !ICAPHeaders.namesMatch(name, "Encapsulated") {
            guard ASCII.isToken(name), ASCII.isFieldValue(value) else { throw .invalidField(name: name) }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if let encapsulated {
            buffer.writeStaticString("Encapsulated: ")
            encapsulated.write(into: &buffer)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    private static func writeHeads(_ heads: ICAPEncapsulatedHeads, into buffer: inout ByteBuffer) {
        if let bytes = heads.requestHeadBytes { buffer.writeImmutableBuffer(bytes) }
        if let bytes = heads.responseHeadBytes { buffer.writeImmutableBuffer(bytes) }
    }
}
