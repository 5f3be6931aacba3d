/// Why a text is not a host name the policy can use.
///
/// ``reason`` says what is wrong without repeating the input (import reports print the line
/// next to it); ``description`` names the input too.
public struct HostNameError: Error, CustomStringConvertible, Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case empty
        case tooLong(bytes: Int)
        case startsWithDot
        case emptyLabel
        case endsWithDots
        case labelTooLong(label: String, bytes: Int?)
        case invalidCharacter(Unicode.Scalar)
        case notUTF8
        case punycode(PunycodeError)
    }

    let kind: Kind
    /// The text that was refused (as far as it could be decoded).
    public let input: String

    init(_ kind: Kind, input: String) {
        self.kind = kind
        self.input = input
    }

    /// What is wrong, as a phrase that follows a subject ("contains a space").
    public var reason: String {
        switch self.kind {
        case .empty:
            return "is empty"
        case .tooLong(let bytes):
            return "is \(bytes) bytes long; at most \(HostName.maximumLength) are allowed"
        case .startsWithDot:
            return "starts with '.'"
        case .emptyLabel:
            return "has an empty label ('..')"
        case .endsWithDots:
            return "ends with more than one '.'"
        case .labelTooLong(let label, let bytes?):
            return
                "has a label of \(bytes) bytes ('\(Self.shortened(label))'); at most \(HostName.maximumLabelLength) are allowed"
        case .labelTooLong(let label, nil):
            return
                "has a label longer than \(HostName.maximumLabelLength) bytes in punycode ('\(Self.shortened(label))')"
        case .invalidCharacter(let scalar):
            return
                "contains \(Self.describe(scalar)), which is not allowed in a host name (only a-z, 0-9, '-', '_' and '.')"
        case .notUTF8:
            return "is not valid UTF-8"
        case .punycode(let error):
            return "cannot be converted to punycode: \(error)"
        }
    }

    public var description: String { "host name '\(Self.shortened(self.input))' \(self.reason)" }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch scalar {
        case " ": return "a space"
        case "\u{00}"..."\u{1F}", "\u{7F}": return "the control character \(code)"
        case "\u{21}"..."\u{7E}": return "'\(scalar)'"
        default:
            let category = scalar.properties.generalCategory
            let visible = ![.control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned]
                .contains(category)
            return visible ? "'\(scalar)' (\(code))" : code
        }
    }

    private static func shortened(_ text: String) -> String {
        text.count <= 100 ? text : text.prefix(100) + "…"
    }
}
