/// The head of an ICAP response: its status line and header fields (RFC 3507 §4.3).
public struct ICAPResponseHead: Sendable, Equatable {
    /// The protocol version, `ICAP/1.0`.
    public var version: ICAPVersion
    /// The three-digit status code.
    public var statusCode: Int
    /// The reason phrase as received or to be sent (c-icap, for one, says `204 Unmodified`).
    public var reasonPhrase: String
    /// The header fields, in order.
    public var headers: ICAPHeaders

    /// A response head with any code and phrase.
    public init(
        version: ICAPVersion = .icap1_0, statusCode: Int, reasonPhrase: String, headers: ICAPHeaders = ICAPHeaders()
    ) {
        self.version = version
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase
        self.headers = headers
    }

    /// A response head with one of the RFC's statuses and its phrase.
    public init(version: ICAPVersion = .icap1_0, status: ICAPStatus, headers: ICAPHeaders = ICAPHeaders()) {
        self.init(version: version, statusCode: status.code, reasonPhrase: status.reasonPhrase, headers: headers)
    }

    /// The status: code and phrase.
    public var status: ICAPStatus { ICAPStatus(code: self.statusCode, reasonPhrase: self.reasonPhrase) }

    /// The `ISTag` header (the service's state tag, RFC 3507 §4.7), quotes included, or nil.
    public var istag: String? {
        get { self.headers.first(name: "ISTag") }
        set {
            if let newValue {
                self.headers.replaceOrAdd(name: "ISTag", value: newValue)
            } else {
                self.headers.remove(name: "ISTag")
            }
        }
    }

    /// Whether this is an interim `100 Continue`: the final response to the same request follows.
    public var isInterim: Bool { self.statusCode >= 100 && self.statusCode < 200 }
}
