/// The head of an ICAP request: its request line and header fields (RFC 3507 §4.3).
///
/// The encapsulated HTTP message is not part of the head: it travels next to it, in
/// ``ICAPEncapsulatedHeads``, and the `Encapsulated` header is written by the encoder.
public struct ICAPRequestHead: Sendable, Equatable {
    /// The request method.
    public var method: ICAPMethod
    /// The ICAP URI exactly as on the request line, e.g. `icap://127.0.0.1:1344/echo`.
    public var uri: String
    /// The protocol version, `ICAP/1.0`.
    public var version: ICAPVersion
    /// The header fields, in order.
    public var headers: ICAPHeaders

    /// A request head.
    public init(method: ICAPMethod, uri: String, version: ICAPVersion = .icap1_0, headers: ICAPHeaders = ICAPHeaders())
    {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
    }

    /// The `Preview` header's byte count, or nil when the request has no preview (or a malformed one).
    public var preview: Int? {
        self.headers.first(name: "Preview").flatMap { Int($0.trimmingASCIISpaces()) }
    }

    /// Whether the client accepts a `204 No Content` answer outside a preview (`Allow: 204`).
    public var allows204: Bool {
        self.headers.values(name: "Allow").contains { value in
            value.split(separator: ",").contains { $0.trimmingASCIISpaces() == "204" }
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
