/// Why an encoder refused a part: the parts written do not form a valid ICAP message, or a
/// value would break the framing (a CR or LF in a header, say) if it were written.
public struct ICAPEncoderError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case unexpectedPart(part: String, state: String)
        case bodyWithoutBodySection
        case previewExceeded(limit: Int)
        case invalidField(name: String)
        case invalidStartLine(String)
        case continueWithMessage
    }

    private let kind: Kind
    private init(_ kind: Kind) { self.kind = kind }

    /// A part that cannot come now (a body before any head, a second head before `.end`).
    static func unexpectedPart(_ part: String, state: String) -> Self {
        Self(.unexpectedPart(part: part, state: state))
    }
    /// Body data for a message whose `Encapsulated` has `null-body`.
    static let bodyWithoutBodySection = Self(.bodyWithoutBodySection)
    /// More preview data than the request's `Preview` header allows.
    static func previewExceeded(limit: Int) -> Self { Self(.previewExceeded(limit: limit)) }
    /// A header name that is not a token or a value with control bytes.
    static func invalidField(name: String) -> Self { Self(.invalidField(name: name)) }
    /// A method, URI, version or reason phrase that cannot be written on a start line.
    static func invalidStartLine(_ what: String) -> Self { Self(.invalidStartLine(what)) }
    /// A `100 Continue`, or a `204`, given encapsulated heads or a body.
    static let continueWithMessage = Self(.continueWithMessage)

    /// What was wrong.
    public var description: String {
        switch self.kind {
        case .unexpectedPart(let part, let state):
            return "cannot write \(part) \(state)"
        case .bodyWithoutBodySection:
            return "cannot write body data: the message's Encapsulated header has null-body"
        case .previewExceeded(let limit):
            return "the preview would exceed the \(limit) bytes of its Preview header"
        case .invalidField(let name):
            return "the header field \(ICAPParseError.quoted(name)) has an invalid name or value"
        case .invalidStartLine(let what):
            return "cannot write \(what) on a start line"
        case .continueWithMessage:
            return "a 100 or 204 response cannot carry encapsulated heads or a body"
        }
    }
}
