import NIOHTTP1

/// How the end of a message body is found on one side of the proxy.
enum BodyFraming: Equatable, Sendable {
    /// No body at all.
    case none
    case contentLength(Int64)
    case chunked
    /// The body ends when the sender closes the connection (responses only).
    case untilClose

    var isReadUntilClose: Bool { self == .untilClose }
}

/// The framing problems that make a request unacceptable (RFC 9112 §6.3: smuggling defences).
struct FramingError: Error, Equatable, Sendable, CustomStringConvertible {
    let description: String
}

extension HTTPHeaders {
    /// Appends `value` to a comma-separated field, creating it when absent.
    mutating func appendToList(name: String, value: String) {
        guard let existing = self.first(name: name) else {
            self.add(name: name, value: value)
            return
        }
        let all = self[name]
        let joined = all.count == 1 ? existing : all.joined(separator: ", ")
        self.replaceOrAdd(name: name, value: joined + ", " + value)
    }
}
