import ICAP
import NIOCore
import NIOEmbedded

/// How bytes reach a decoder in a test: all at once, or one byte per read.
enum Feed: CaseIterable, CustomStringConvertible, Sendable {
    case whole
    case byteByByte

    var description: String { self == .whole ? "whole" : "byte by byte" }

    /// Writes `text` into `channel` as inbound reads.
    func write(_ text: String, into channel: EmbeddedChannel) throws {
        switch self {
        case .whole:
            try channel.writeInbound(ByteBuffer(string: text))
        case .byteByByte:
            for byte in text.utf8 {
                try channel.writeInbound(ByteBuffer(bytes: [byte]))
            }
        }
    }
}

/// A streamed part with a `.body` case, whose runs of bodies tests join into one, so parts decoded
/// from bytes split any way compare equal.
protocol BodyMergeable {
    var bodyData: ByteBuffer? { get }
    static func makeBody(_ data: ByteBuffer) -> Self
}

extension ICAPRequestPart: BodyMergeable {
    var bodyData: ByteBuffer? {
        if case .body(let data) = self { return data }
        return nil
    }
    static func makeBody(_ data: ByteBuffer) -> Self { .body(data) }
}

extension ICAPResponsePart: BodyMergeable {
    var bodyData: ByteBuffer? {
        if case .body(let data) = self { return data }
        return nil
    }
    static func makeBody(_ data: ByteBuffer) -> Self { .body(data) }
}

/// Reads every inbound part waiting in `channel`, joining adjacent bodies.
func readParts<Part: BodyMergeable>(_ channel: EmbeddedChannel, as: Part.Type = Part.self) throws -> [Part] {
    var parts: [Part] = []
    while let part = try channel.readInbound(as: Part.self) {
        if let body = part.bodyData, let last = parts.last, let previous = last.bodyData {
            var joined = previous
            joined.writeImmutableBuffer(body)
            parts[parts.count - 1] = Part.makeBody(joined)
        } else {
            parts.append(part)
        }
    }
    return parts
}

/// Reads every outbound buffer waiting in `channel`, as one string.
func readOutboundString(_ channel: EmbeddedChannel) throws -> String {
    var all = ByteBuffer()
    while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
        all.writeBuffer(&buffer)
    }
    return String(buffer: all)
}
