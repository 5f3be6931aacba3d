import NIOHTTP1

/// The answers the proxy gives by itself, each with an honest status and its template.
public struct LocalPage: Sendable, Hashable {
    public let status: HTTPResponseStatus
    /// Template name in `share/pages/` (`NAME.html`); missing ones fall back to `error.html`.
    public let template: String
    public let title: String
    /// Short code sent in the `X-Portcullis-Error` header (for scripts and tests).
    public let code: String

    private init(_ status: HTTPResponseStatus, _ template: String, _ title: String, _ code: String) {
        self.status = status
        self.template = template
        self.title = title
        self.code = code
    }

    public static let badRequest = Self(.badRequest, "bad-request", "Bad Request", "bad_request")
    public static let clientDenied = Self(.forbidden, "access-denied", "Access Denied", "client_denied")
    public static let connectPortDenied = Self(.forbidden, "connect-denied", "CONNECT Denied", "connect_port_denied")
    public static let destinationDenied = Self(.forbidden, "access-denied", "Access Denied", "destination_denied")
    public static let methodNotAllowed = Self(
        .methodNotAllowed, "bad-request", "Method Not Allowed", "method_not_allowed")
    public static let notImplemented = Self(.notImplemented, "bad-request", "Not Implemented", "unsupported_scheme")
    public static let payloadTooLarge = Self(.payloadTooLarge, "bad-request", "Payload Too Large", "body_too_large")
    public static let headersTooLarge = Self(
        .custom(code: 431, reasonPhrase: "Request Header Fields Too Large"), "bad-request",
        "Request Header Fields Too Large", "headers_too_large")
    public static let originUnreachable = Self(.badGateway, "origin-error", "Origin Unreachable", "origin_unreachable")
    public static let nameNotResolved = Self(.serviceUnavailable, "dns-error", "Name Not Resolved", "dns_failure")
    public static let originTimeout = Self(.gatewayTimeout, "origin-error", "Origin Timeout", "origin_timeout")
    /// A request the policy refused, shown with its group's block page template.
    public static func blocked(template: String) -> Self { Self(.forbidden, template, "Blocked", "policy_blocked") }
    /// An essential (`bypass=off`) ICAP service failed or is suspended.
    public static let serviceUnavailable = Self(
        .serviceUnavailable, "error", "Service Unavailable", "icap_service_failed")
    public static let requestTimeout = Self(.requestTimeout, "bad-request", "Request Timeout", "request_timeout")
}
