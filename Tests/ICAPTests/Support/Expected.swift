import NIOCore
import NIOHTTP1

@testable import ICAP

/// Builders for expected parts, written out in tests.
enum Expected {
    /// Headers from `Name: value` pairs, in order.
    static func headers(_ pairs: KeyValuePairs<String, String>) -> ICAPHeaders {
        ICAPHeaders(pairs.map { ($0.key, $0.value) })
    }

    /// Encapsulated heads from their exact text, with the `Encapsulated` value they were announced with.
    static func heads(
        _ encapsulated: String, request: String? = nil, response: String? = nil
    ) throws -> ICAPEncapsulatedHeads {
        let requestBytes = request.map { ByteBuffer(string: $0) }
        let responseBytes = response.map { ByteBuffer(string: $0) }
        return ICAPEncapsulatedHeads(
            encapsulated: try Encapsulated(parsing: encapsulated), requestHeadBytes: requestBytes,
            responseHeadBytes: responseBytes,
            request: try requestBytes.map { bytes throws(ICAPParseError) in try HTTPHeadBytes.parseRequestHead(bytes) },
            response: try responseBytes.map { bytes throws(ICAPParseError) in
                try HTTPHeadBytes.parseResponseHead(bytes)
            })
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// A header-only message with `Encapsulated: null-body=0` added as its last header.
    static func addingNullBody(_ message: String) -> String {
        precondition(message.hasSuffix("\r\n\r\n"))
        return String(decoding: message.utf8.dropLast(2), as: UTF8.self) + "Encapsulated: null-body=0\r\n\r\n"
    }

    /// large.txt, the 2720-byte body of the preview captures: 40 numbered lines.
    static let largeBody: String = (1...40).map { number in
        let digits = String(number)
        return
            "line \(String(repeating: "0", count: 3 - digits.count))\(digits) of a body long enough to need a preview and a 100 Continue\n"
    }.joined()
}
