/// What an ICAP service says about itself in its OPTIONS answer (RFC 3507 §4.10.2): the headers
/// of a `200 OK` with `Encapsulated: null-body=0`.
///
/// Servers build their answer with ``responseHead``; clients read one with ``init(parsing:)``.
public struct ICAPOptions: Sendable, Equatable {
    /// The methods the service supports (`Methods`), one of REQMOD or RESPMOD in practice.
    public var methods: [ICAPMethod]
    /// The service's state tag (`ISTag`), quotes included: a change tells clients to forget
    /// cached answers.
    public var istag: String
    /// A description of the service (`Service`).
    public var service: String?
    /// How many connections the service accepts (`Max-Connections`).
    public var maxConnections: Int?
    /// How many seconds this answer stays valid (`Options-TTL`).
    public var optionsTTL: Int?
    /// How many body bytes the service wants to preview (`Preview`).
    public var preview: Int?
    /// File extensions to preview (`Transfer-Preview`), `*` for any.
    public var transferPreview: [String]?
    /// File extensions not to send at all (`Transfer-Ignore`).
    public var transferIgnore: [String]?
    /// File extensions to send whole, without preview (`Transfer-Complete`).
    public var transferComplete: [String]?
    /// Whether the service may answer `204` outside a preview (`Allow: 204`).
    public var allows204: Bool

    /// An OPTIONS answer.
    public init(
        methods: [ICAPMethod], istag: String, service: String? = nil, maxConnections: Int? = nil,
        optionsTTL: Int? = nil, preview: Int? = nil, transferPreview: [String]? = nil, transferIgnore: [String]? = nil,
        transferComplete: [String]? = nil, allows204: Bool = false
    ) {
        self.methods = methods
        self.istag = istag
        self.service = service
        self.maxConnections = maxConnections
        self.optionsTTL = optionsTTL
        self.preview = preview
        self.transferPreview = transferPreview
        self.transferIgnore = transferIgnore
        self.transferComplete = transferComplete
        self.allows204 = allows204
    }

    /// The `200 OK` head that carries these options; send it with ``ICAPEncapsulatedHeads/none``
    /// (the encoder adds `Encapsulated: null-body=0`).
    public var responseHead: ICAPResponseHead {
        var headers = ICAPHeaders()
        headers.add(name: "Methods", value: self.methods.map(\.rawValue).joined(separator: ", "))
        if let service = self.service { headers.add(name: "Service", value: service) }
        headers.add(name: "ISTag", value: self.istag)
        if let value = self.maxConnections { headers.add(name: "Max-Connections", value: String(value)) }
        if let value = self.optionsTTL { headers.add(name: "Options-TTL", value: String(value)) }
        if let value = self.preview { headers.add(name: "Preview", value: String(value)) }
        if let list = self.transferPreview {
            headers.add(name: "Transfer-Preview", value: list.joined(separator: ", "))
        }
        if let list = self.transferIgnore { headers.add(name: "Transfer-Ignore", value: list.joined(separator: ", ")) }
        if let list = self.transferComplete {
            headers.add(name: "Transfer-Complete", value: list.joined(separator: ", "))
        }
        if self.allows204 { headers.add(name: "Allow", value: "204") }
        return ICAPResponseHead(status: .ok, headers: headers)
    }

    /// Reads the options from an OPTIONS answer.
    ///
    /// - Throws: ``ICAPParseError`` if the answer is not `200`, lacks `Methods` or `ISTag`, names an
    ///   unknown method, or has a malformed number.
    public init(parsing head: ICAPResponseHead) throws(ICAPParseError) {
        guard head.statusCode == 200 else { throw .badHeaderValue(name: "status", value: String(head.statusCode)) }
        guard let methodList = head.headers.first(name: "Methods") else { throw .missingHeader("Methods") }
        var methods: [ICAPMethod] = []
        for name in Self.list(methodList) {
            guard let method = ICAPMethod(rawValue: name) else {
                throw .badHeaderValue(name: "Methods", value: methodList)
            }
            methods.append(method)
        }
        guard let istag = head.istag, !istag.isEmpty else { throw .missingISTag(status: head.statusCode) }
        self.init(
            methods: methods, istag: istag, service: head.headers.first(name: "Service"),
            maxConnections: try Self.number(head, "Max-Connections"), optionsTTL: try Self.number(head, "Options-TTL"),
            preview: try Self.number(head, "Preview"),
            transferPreview: head.headers.first(name: "Transfer-Preview").map(Self.list),
            transferIgnore: head.headers.first(name: "Transfer-Ignore").map(Self.list),
            transferComplete: head.headers.first(name: "Transfer-Complete").map(Self.list),
            allows204: head.headers.values(name: "Allow").contains { Self.list($0).contains("204") })
    }

    private static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0.trimmingASCIISpaces()) }.filter { !$0.isEmpty }
    }

    private static func number(_ head: ICAPResponseHead, _ name: String) throws(ICAPParseError) -> Int? {
        guard let value = head.headers.first(name: name) else { return nil }
        guard let number = Int(value.trimmingASCIISpaces()), number >= 0 else {
            throw .badHeaderValue(name: name, value: value)
        }
        return number
    }
}
