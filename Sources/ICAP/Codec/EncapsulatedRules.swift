/// Which `Encapsulated` sections each kind of message may carry (RFC 3507 §4.8–4.10), beyond the
/// header's own grammar.
enum EncapsulatedRules {
    /// The `Encapsulated` value of a request, or `null-body=0` for an OPTIONS request without one
    /// (Squid sends its OPTIONS requests so).
    static func request(_ value: String?, method: ICAPMethod) throws(ICAPParseError) -> Encapsulated {
        guard let value else {
            if method == .options { return .nullBody }
            throw .missingHeader("Encapsulated")
        }
        let encapsulated = try Encapsulated(parsing: value)
        let message = "a \(method) request"
        switch method {
        case .options:
            try self.forbidHeads(encapsulated, in: message)
            try self.allowBodies([.nullBody, .optionsBody], encapsulated, in: message)
        case .reqmod:
            guard encapsulated.requestHeaderOffset != nil else {
                throw .badEncapsulated(value, "a REQMOD request must carry the HTTP request head (req-hdr)")
            }
            if encapsulated.responseHeaderOffset != nil { throw .sectionNotAllowed("res-hdr", in: message) }
            try self.allowBodies([.requestBody, .nullBody], encapsulated, in: message)
        case .respmod:
            try self.allowBodies([.responseBody, .nullBody], encapsulated, in: message)
        }
        return encapsulated
    }

    /// The `Encapsulated` value of a response to `method` with status `code`. c-icap leaves the
    /// header out of `100`, `204` and error responses; those mean `null-body=0`.
    static func response(_ value: String?, method: ICAPMethod, code: Int) throws(ICAPParseError) -> Encapsulated {
        let success = code >= 200 && code < 300 && code != 204
        guard let value else {
            if success { throw .missingHeader("Encapsulated") }
            return .nullBody
        }
        let encapsulated = try Encapsulated(parsing: value)
        if code == 100 || code == 204 {
            guard encapsulated == .nullBody else { throw .bodyNotAllowed(status: code) }
            return encapsulated
        }
        let message = "a response to \(method)"
        switch method {
        case .options:
            try self.forbidHeads(encapsulated, in: message)
            try self.allowBodies([.optionsBody, .nullBody], encapsulated, in: message)
        case .reqmod:
            // Either the adapted request, or a whole HTTP response ("request satisfaction").
            if encapsulated.requestHeaderOffset != nil {
                if encapsulated.responseHeaderOffset != nil {
                    throw .sectionNotAllowed("res-hdr", in: message + " with req-hdr")
                }
                try self.allowBodies([.requestBody, .nullBody], encapsulated, in: message + " with req-hdr")
            } else if encapsulated.responseHeaderOffset != nil {
                try self.allowBodies([.responseBody, .nullBody], encapsulated, in: message + " with res-hdr")
            } else {
                try self.allowBodies([.nullBody], encapsulated, in: message + " without heads")
            }
        case .respmod:
            try self.allowBodies([.responseBody, .nullBody], encapsulated, in: message)
        }
        return encapsulated
    }

    private static func forbidHeads(_ encapsulated: Encapsulated, in message: String) throws(ICAPParseError) {
        if encapsulated.requestHeaderOffset != nil { throw .sectionNotAllowed("req-hdr", in: message) }
        if encapsulated.responseHeaderOffset != nil { throw .sectionNotAllowed("res-hdr", in: message) }
    }

    private static func allowBodies(
        _ allowed: [Encapsulated.BodySection], _ encapsulated: Encapsulated, in message: String
    ) throws(ICAPParseError) {
        guard allowed.contains(encapsulated.bodySection) else {
            throw .sectionNotAllowed(encapsulated.bodySection.rawValue, in: message)
        }
    }
}
