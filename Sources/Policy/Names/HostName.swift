import Foundation

/// The canonical form of host names used everywhere in the policy.
///
/// A normalised name is ASCII: lowercase, without the trailing dot of a fully qualified
/// name, with internationalised labels in punycode (`Bücher.DE.`, `bücher.de` and
/// `xn--bcher-kva.de` all become `xn--bcher-kva.de`). Labels are 1…63 bytes, the whole name
/// at most 253, and the only characters are `a`-`z`, `0`-`9`, `-` and `_` (underscores and
/// leading or trailing hyphens are not valid DNS host names, but they occur in real lists
/// and in DNS, so they are kept). IPv4 literals (`10.1.2.3`) pass the same rules.
///
/// Labels with non-ASCII characters are lowercased (Unicode rules), put in NFC, and encoded
/// with ``Punycode``; the ideographic full stops `。`, `．` and `｡` separate labels like `.`.
/// This is not full IDNA (no UTS 46 mapping table, no bidi or contextual rules): it is enough
/// to make the spellings found in block lists and in requests meet in one form. ASCII labels
/// that already start with `xn--` are kept as they are (lowercased), without decoding them.
public enum HostName {
    /// The longest normalised name, in bytes.
    public static let maximumLength = 253
    /// The longest label, in bytes.
    public static let maximumLabelLength = 63

    /// The canonical form of `text`, or why it is not a host name.
    public static func normalized(_ text: some StringProtocol) throws(HostNameError) -> String {
        let result =
            text.utf8.withContiguousStorageIfAvailable(Self.result(utf8:))
            ?? Array(text.utf8).withUnsafeBufferPointer(Self.result(utf8:))
        return try result.get()
    }

    /// `normalized(_:)` on UTF-8 bytes (the importers' path: no `String` unless it succeeds).
    static func normalized(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(HostNameError) -> String {
        var end = bytes.count
        if end > 0, bytes[end - 1] == .dot { end -= 1 }
        guard end > 0 else { throw Self.error(.empty, bytes) }
        var labelStart = 0
        for index in 0..<end {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
                UInt8(ascii: "_"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                continue
            case .dot:
                try Self.checkLabel(bytes, from: labelStart, to: index, isLast: false)
                labelStart = index + 1
            case 0x80...:
                return try Self.normalizedUnicode(bytes)
            default:
                throw Self.error(.invalidCharacter(Unicode.Scalar(byte)), bytes)
            }
        }
        try Self.checkLabel(bytes, from: labelStart, to: end, isLast: true)
        guard end <= Self.maximumLength else { throw Self.error(.tooLong(bytes: end), bytes) }
        return String(unsafeUninitializedCapacity: end) { name in
            for index in 0..<end {
                let byte = bytes[index]
                name[index] = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            }
            return end
        }
    }

    /// Whether `text` is a dotted-quad IPv4 address (`10.1.2.3`; each part 0…255, 1…3 digits).
    public static func isIPv4Literal(_ text: some StringProtocol) -> Bool {
        Self.isIPv4Literal(utf8: text.utf8)
    }

    static func isIPv4Literal(utf8 bytes: some Sequence<UInt8>) -> Bool {
        var parts = 0
        var digits = 0
        var value = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                guard digits <= 3, value <= 255 else { return false }
            case .dot:
                guard digits > 0, parts < 3 else { return false }
                parts += 1
                digits = 0
                value = 0
            default:
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// `name` for display: `xn--` labels decoded to Unicode (labels that are not valid
    /// punycode are left as they are).
    public static func unicode(_ name: some StringProtocol) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            guard label.count > 4, label.lowercased().hasPrefix("xn--"),
                let decoded = try? Punycode.decode(label.dropFirst(4))
            else { return String(label) }
            return decoded
        }.joined(separator: ".")
    }

    private static func checkLabel(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, isLast: Bool
    ) throws(HostNameError) {
        let length = end - start
        if length == 0 {
            throw Self.error(start == 0 ? .startsWithDot : (isLast ? .endsWithDots : .emptyLabel), bytes)
        }
        if length > Self.maximumLabelLength {
            let label = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            throw Self.error(.labelTooLong(label: label, bytes: length), bytes)
        }
    }

    /// The path for names with non-ASCII bytes: Unicode lowercasing, NFC, punycode; the result
    /// is checked by the ASCII path.
    private static func normalizedUnicode(_ bytes: UnsafeBufferPointer<UInt8>) throws(HostNameError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Self.error(.notUTF8, bytes) }
        // No valid name needs more than 4 bytes per output byte, even before NFC composes.
        guard bytes.count <= 4 * 4 * Self.maximumLength else {
            throw HostNameError(.tooLong(bytes: bytes.count), input: text)
        }
        var scalars = String.UnicodeScalarView()
        for scalar in text.lowercased().precomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar {
            case "\u{3002}", "\u{FF0E}", "\u{FF61}":
                scalars.append(".")
            case "a"..."z", "0"..."9", "-", "_", ".":
                scalars.append(scalar)
            case "\u{80}"... where Self.isAllowedNonASCII(scalar):
                scalars.append(scalar)
            default:
                throw HostNameError(.invalidCharacter(scalar), input: text)
            }
        }
        // Empty labels and the trailing dot are left for the ASCII path to judge.
        let labels = String(scalars).split(separator: ".", omittingEmptySubsequences: false)
        var converted: [String] = []
        for label in labels {
            guard label.utf8.contains(where: { $0 >= 0x80 }) else {
                converted.append(String(label))
                continue
            }
            guard label.unicodeScalars.count + 4 <= Self.maximumLabelLength else {
                throw HostNameError(.labelTooLong(label: String(label), bytes: nil), input: text)
            }
            do {
                converted.append("xn--" + (try Punycode.encode(label)))
            } catch {
                throw HostNameError(.punycode(error), input: text)
            }
        }
        let ascii = converted.joined(separator: ".")
        do {
            return try Self.normalized(ascii)
        } catch {
            throw HostNameError(error.kind, input: text)
        }
    }

    /// Letters, marks, digits, symbols and punctuation: not controls, format characters,
    /// separators, private-use or unassigned code points.
    private static func isAllowedNonASCII(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate,
            .unassigned:
            return false
        default:
            return true
        }
    }

    private static func error(_ kind: HostNameError.Kind, _ bytes: UnsafeBufferPointer<UInt8>) -> HostNameError {
        HostNameError(kind, input: String(decoding: bytes, as: UTF8.self))
    }

    private static func result(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<String, HostNameError> {
        do {
            return .success(try Self.normalized(utf8: bytes))
        } catch {
            return .failure(error)
        }
    }
}

extension UInt8 {
    fileprivate static let dot = UInt8(ascii: ".")
}
