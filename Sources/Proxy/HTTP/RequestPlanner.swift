import NIOCore
import NIOHTTP1

/// Decides, from the request head alone, whether a request is forwarded, tunnelled or refused,
/// and rewrites the head for the origin. Pure: no I/O, no clock.
struct RequestPlanner: Sendable {
    var connectPorts: Set<Int>
    var forwardedFor: ForwardedForMode
    var via: ViaEntries
    var maxRequestBodyBytes: Int64

    init(configuration: ProxyConfiguration) {
        self.connectPorts = configuration.connectPorts
        self.forwardedFor = configuration.forwardedFor
        self.via = ViaEntries(name: configuration.viaName)
        self.maxRequestBodyBytes = configuration.maxRequestBodyBytes
    }

    func plan(_ head: HTTPRequestHead, clientIP: String) -> RequestDisposition {
        self.plan(head, fields: HeadFields(head.headers), clientIP: clientIP)
    }

    /// `fields` are the facts of `head.headers`, when the parser gathered them already.
    func plan(_ head: HTTPRequestHead, fields: HeadFields, clientIP: String) -> RequestDisposition {
        let uri = head.uri
        guard head.version.major == 1 else {
            return .reject(.badRequest, reason: "unsupported HTTP version", url: uri)
        }
        if head.method == .CONNECT {
            return self.planConnect(head, fields: fields)
        }
        if case .RAW(let method) = head.method, method == "PRI" {
            return .reject(.methodNotAllowed, reason: "the method PRI is not forwarded", url: uri)
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(absoluteForm: uri)
        } catch {
            return .reject(
                error.isUnsupportedScheme ? .notImplemented : .badRequest, reason: error.description, url: uri)
        }
        guard target.scheme == "http" || target.scheme == "ws" else {
            return .reject(.notImplemented, reason: "the URL scheme '\(target.scheme)' is not supported", url: uri)
        }
        let framing: BodyFraming
        switch fields.requestFraming() {
        case .success(let value): framing = value
        case .failure(let error): return .reject(.badRequest, reason: error.description, url: uri)
        }
        if self.maxRequestBodyBytes > 0, case .contentLength(let length) = framing, length > self.maxRequestBodyBytes {
            return .reject(
                .payloadTooLarge, reason: "the request body is larger than \(self.maxRequestBodyBytes) bytes", url: uri)
        }
        if fields.hostCount > 1 {
            return .reject(.badRequest, reason: "more than one Host header", url: uri)
        }

        var maxForwards: Int?
        if head.method == .OPTIONS || head.method == .TRACE, let value = fields.maxForwards {
            guard let remaining = Int(value), remaining >= 0 else {
                return .reject(.badRequest, reason: "malformed Max-Forwards", url: uri)
            }
            if remaining == 0 { return self.answerAsFinalRecipient(head) }
            maxForwards = remaining - 1
        }
        let upgrade = fields.upgradeProtocol
        let keepAlive = fields.wantsKeepAlive(version: head.version)
        return .forward(
            ForwardPlan(
                target: target, clientHead: head, fields: fields, requestFraming: framing, upgrade: upgrade,
                clientKeepAlive: keepAlive && upgrade == nil, maxForwards: maxForwards,
                via: self.via.entry(minorVersion: head.version.minor),
                forwardedFor: self.forwardedFor, clientIP: clientIP))
    }

    private func planConnect(_ head: HTTPRequestHead, fields: HeadFields) -> RequestDisposition {
        let target: RequestTarget
        do {
            target = try RequestTarget(authorityForm: head.uri)
        } catch {
            return .reject(.badRequest, reason: "CONNECT target: \(error.description)", url: head.uri)
        }
        if case .failure(let error) = fields.requestFraming() {
            return .reject(.badRequest, reason: error.description, url: head.uri)
        }
        guard self.connectPorts.contains(target.port) else {
            return .reject(.connectPortDenied, reason: "CONNECT to port \(target.port) is not allowed", url: head.uri)
        }
        return .tunnel(target)
    }

    private func answerAsFinalRecipient(_ head: HTTPRequestHead) -> RequestDisposition {
        var headers = HTTPHeaders()
        headers.add(name: "Via", value: self.via.http11)
        if head.method == .OPTIONS {
            headers.add(name: "Allow", value: "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT")
            headers.add(name: "Content-Length", value: "0")
            return .answer(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), body: ByteBuffer())
        }
        // TRACE: echo the request as received, less credentials (RFC 9110 §9.3.8).
        var echo = "\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\r\n"
        for field in head.headers {
            let name = field.name.lowercased()
            if name == "authorization" || name == "proxy-authorization" || name == "cookie" { continue }
            echo += "\(field.name): \(field.value)\r\n"
        }
        echo += "\r\n"
        headers.add(name: "Content-Type", value: "message/http")
        headers.add(name: "Content-Length", value: String(echo.utf8.count))
        return .answer(
            HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), body: ByteBuffer(string: echo))
    }
}
