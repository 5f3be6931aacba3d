import NIOHTTP1

/// How the end of a message body is found on one side of the proxy.
enum BodyFraming: Equatable, Sendable {
    /// No body at all.
    case none
    case contentLength(Int64)
    case chunked
    /// The body ends when the sender closes the connection (responses only).
    case untilClose
}

/// The framing problems that make a request unacceptable (RFC 9112 §6.3: smuggling defences).
struct FramingError: Error, Equatable, Sendable, CustomStringConvertible {
    let description: String
}
