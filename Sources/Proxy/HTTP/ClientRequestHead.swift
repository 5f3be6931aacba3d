import NIOCore
import NIOHTTP1

/// A request head as the proxy forwards it: the request line decoded, the field lines kept as
/// the bytes they came in. Forwarding copies those bytes, so a value goes on exactly as it was
/// sent (obs-text included, which a `String` would have replaced with U+FFFD), and reading a
/// head makes no `String` per field. NIO's form (`httpHead`) is made only where a header list
/// is needed: the ICAP services, a TRACE echo.
struct ClientRequestHead: Sendable {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    /// What the proxy needs to know of the fields (framing, hop-by-hop names, …).
    var fields: HeadFields
    private var storage: Storage

    private enum Storage: Sendable {
        /// Field lines as read (each with its line break, checked by the parser), through the
        /// empty line that ends the head.
        case lines(ByteBuffer)
        /// A head that came as NIO's form (adapted by a REQMOD service, or made by a test).
        case headers(HTTPHeaders)
    }

    /// A head the parser read: `fieldLines` from the first field line through the empty line.
    init(method: HTTPMethod, uri: String, version: HTTPVersion, fields: HeadFields, fieldLines: ByteBuffer) {
        self.method = method
        self.uri = uri
        self.version = version
        self.fields = fields
        self.storage = .lines(fieldLines)
    }

    /// A head in NIO's form; `fields` are gathered from its header list.
    init(_ head: HTTPRequestHead) {
        self.method = head.method
        self.uri = head.uri
        self.version = head.version
        self.fields = HeadFields(head.headers)
        self.storage = .headers(head.headers)
    }

    /// Calls `body` with each field's name and value, in order, as bytes.
    func forEachField(_ body: (FieldLineSyntax.Bytes, FieldLineSyntax.Bytes) -> Void) {
        switch self.storage {
        case .lines(let lines):
            lines.withUnsafeReadableBytes { all in
                _ = FieldLineSyntax.parse(all, from: 0, removesSpaceBeforeColon: false, body)
            }
        case .headers(let headers):
            for (name, value) in headers {
                var name = name
                var value = value
                name.withUTF8 { nameBytes in
                    value.withUTF8 { valueBytes in
                        body(UnsafeRawBufferPointer(nameBytes)[...], UnsafeRawBufferPointer(valueBytes)[...])
                    }
                }
            }
        }
    }

    /// How many bytes the field lines take, names and values (an upper bound for writing them).
    var fieldBytes: Int {
        switch self.storage {
        case .lines(let lines): return lines.readableBytes
        case .headers(let headers): return headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        }
    }

    /// NIO's form, every field as a pair of `String`s (bytes that are not UTF-8 become U+FFFD).
    var httpHead: HTTPRequestHead {
        switch self.storage {
        case .headers(let headers):
            return HTTPRequestHead(version: self.version, method: self.method, uri: self.uri, headers: headers)
        case .lines:
            var headers = HTTPHeaders()
            self.forEachField { name, value in
                headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
            }
            return HTTPRequestHead(version: self.version, method: self.method, uri: self.uri, headers: headers)
        }
    }
}
