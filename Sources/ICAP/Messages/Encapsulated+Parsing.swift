extension Encapsulated {
    /// The largest offset accepted: encapsulated heads are bounded far below this anyway.
    static let maxOffset = Int(Int32.max)

    /// Parses a header value strictly: known section names only, each at most once, `req-hdr`
    /// before `res-hdr` before exactly one body section, which comes last; the first section at
    /// offset 0 and each later one at a greater offset.
    ///
    /// - Throws: ``ICAPParseError`` naming the offending entry.
    public init(parsing value: String) throws(ICAPParseError) {
        var requestHeader: Int?
        var responseHeader: Int?
        var body: (BodySection, Int)?
        var previous: (name: Substring, offset: Int)?
        let entries = value.split(separator: ",", omittingEmptySubsequences: false)
        for rawEntry in entries {
            let entry = rawEntry.trimmingASCIISpaces()
            guard let equals = entry.firstIndex(of: "=") else {
                throw .badEncapsulated(value, "entry \(ICAPParseError.quoted(String(entry))) is not name=offset")
            }
            let name = entry[..<equals]
            let digits = entry[entry.index(after: equals)...]
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                digits.count <= 10, let offset = Int(digits), offset <= Self.maxOffset
            else {
                throw .badEncapsulated(
                    value, "offset \(ICAPParseError.quoted(String(digits))) of \(name) is not a decimal number")
            }
            if let body {
                if BodySection(rawValue: String(name)) != nil {
                    throw .badEncapsulated(
                        value, "two body sections, \(body.0.rawValue) and \(name); exactly one is allowed")
                }
                throw .badEncapsulated(
                    value, "\(name) comes after the body section \(body.0.rawValue), which must be last")
            }
            if let previous {
                guard offset > previous.offset else {
                    throw .badEncapsulated(
                        value, "offsets must ascend, but \(name)=\(offset) follows \(previous.name)=\(previous.offset)")
                }
            } else if offset != 0 {
                throw .badEncapsulated(value, "the first section \(name) must start at offset 0, not \(offset)")
            }
            switch name {
            case "req-hdr":
                guard requestHeader == nil, responseHeader == nil else {
                    throw .badEncapsulated(value, "req-hdr must come once, before res-hdr")
                }
                requestHeader = offset
            case "res-hdr":
                guard responseHeader == nil else { throw .badEncapsulated(value, "res-hdr comes twice") }
                responseHeader = offset
            default:
                guard let section = BodySection(rawValue: String(name)) else {
                    throw .badEncapsulated(value, "unknown section \(ICAPParseError.quoted(String(name)))")
                }
                body = (section, offset)
            }
            previous = (name, offset)
        }
        guard let body else {
            throw .badEncapsulated(value, "no body section (req-body, res-body, opt-body or null-body)")
        }
        self.init(
            requestHeaderOffset: requestHeader, responseHeaderOffset: responseHeader, bodySection: body.0,
            bodyOffset: body.1)
    }
}
