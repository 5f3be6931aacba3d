/// Why a label could not be converted to or from punycode.
public enum PunycodeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A character that is not a letter, digit or (before the last `-`) an ASCII code point.
    case invalidCharacter
    /// The input ends in the middle of an encoded number.
    case truncated
    /// A number too large for the algorithm's 32-bit arithmetic.
    case overflow
    /// The decoded value is not a Unicode scalar, or is an ASCII code point that should have
    /// been written literally.
    case invalidCodePoint

    public var description: String {
        switch self {
        case .invalidCharacter: return "punycode may only contain letters, digits and '-'"
        case .truncated: return "punycode ends in the middle of a code point"
        case .overflow: return "punycode number overflows"
        case .invalidCodePoint: return "punycode decodes to an invalid code point"
        }
    }
}
