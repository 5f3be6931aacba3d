/// An ICAP status code with its reason phrase (RFC 3507 §4.3.3).
public struct ICAPStatus: Hashable, Sendable, CustomStringConvertible {
    /// The three-digit code.
    public let code: Int
    /// The reason phrase written after the code.
    public let reasonPhrase: String

    /// A status with any code and phrase.
    public init(code: Int, reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }

    /// The status RFC 3507 defines for `code`, or one with the reason phrase `Unknown`.
    public init(code: Int) {
        self = Self.known.first { $0.code == code } ?? ICAPStatus(code: code, reasonPhrase: "Unknown")
    }

    /// 100: send the rest of the body after the preview (RFC 3507 §4.5).
    public static let `continue` = ICAPStatus(code: 100, reasonPhrase: "Continue")
    /// 200: the adapted message follows.
    public static let ok = ICAPStatus(code: 200, reasonPhrase: "OK")
    /// 204: no modification needed (RFC 3507 §4.6).
    public static let noContent = ICAPStatus(code: 204, reasonPhrase: "No Content")
    /// 400: the request could not be understood.
    public static let badRequest = ICAPStatus(code: 400, reasonPhrase: "Bad Request")
    /// 404: no such ICAP service.
    public static let serviceNotFound = ICAPStatus(code: 404, reasonPhrase: "ICAP Service Not Found")
    /// 405: the service does not support this method (e.g. RESPMOD on a REQMOD-only service).
    public static let methodNotAllowed = ICAPStatus(code: 405, reasonPhrase: "Method Not Allowed For Service")
    /// 408: the server gave up waiting for the request.
    public static let requestTimeout = ICAPStatus(code: 408, reasonPhrase: "Request Timeout")
    /// 500: an error in the server.
    public static let serverError = ICAPStatus(code: 500, reasonPhrase: "Server Error")
    /// 501: the method is not implemented (never an answer to OPTIONS).
    public static let methodNotImplemented = ICAPStatus(code: 501, reasonPhrase: "Method Not Implemented")
    /// 502: this ICAP proxy got an error from the next server.
    public static let badGateway = ICAPStatus(code: 502, reasonPhrase: "Bad Gateway")
    /// 503: the service is overloaded (the client should respect `Max-Connections`).
    public static let serviceOverloaded = ICAPStatus(code: 503, reasonPhrase: "Service Overloaded")
    /// 505: the ICAP version is not supported.
    public static let versionNotSupported = ICAPStatus(code: 505, reasonPhrase: "ICAP Version Not Supported By Server")

    /// Every status RFC 3507 defines.
    public static let known: [ICAPStatus] = [
        .continue, .ok, .noContent, .badRequest, .serviceNotFound, .methodNotAllowed, .requestTimeout, .serverError,
        .methodNotImplemented, .badGateway, .serviceOverloaded, .versionNotSupported,
    ]

    /// `200 OK`.
    public var description: String { "\(self.code) \(self.reasonPhrase)" }
}
