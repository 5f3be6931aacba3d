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

    /// A head in NIO's form (adapted by a REQMOD service, or a test's).
    func plan(_ head: HTTPRequestHead, clientIP: String) -> RequestDisposition {
        self.plan(ClientRequestHead(head), clientIP: clientIP)
    }

    func plan(_ head: ClientRequestHead, clientIP: String) -> RequestDisposition {
        let uri = head.uri
        let fields = head.fields
        guard head.version.major == 1 else {
            return .reject(.badRequest, reason: "unsupported HTTP version", url: uri)
        }
        if head.method.isCONNECT {
            return self.planConnect(head)
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
        if head.method.isOPTIONS || head.method.isTRACE, let value = fields.maxForwards {
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
                target: target, client: head, requestFraming: framing, upgrade: upgrade,
                clientKeepAlive: keepAlive && upgrade == nil, maxForwards: maxForwards,
                via: self.via.entry(minorVersion: head.version.minor),
                forwardedFor: self.forwardedFor, clientIP: clientIP))
    }

    private func planConnect(_ head: ClientRequestHead) -> RequestDisposition {
        let target: RequestTarget
        do {
            target = try RequestTarget(authorityForm: head.uri)
        } catch {
            return .reject(.badRequest, reason: "CONNECT target: \(error.description)", url: head.uri)
        }
        if case .failure(let error) = head.fields.requestFraming() {
            return .reject(.badRequest, reason: error.description, url: head.uri)
        }
        guard self.connectPorts.contains(target.port) else {
            return .reject(.connectPortDenied, reason: "CONNECT to port \(target.port) is not allowed", url: head.uri)
        }
        return .tunnel(target)
    }

    private func answerAsFinalRecipient(_ head: ClientRequestHead) -> RequestDisposition {
        var headers = HTTPHeaders()
        headers.add(name: "Via", value: self.via.http11)
        if head.method.isOPTIONS {
            headers.add(name: "Allow", value: "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT")
            headers.add(name: "Content-Length", value: "0")
            return .answer(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), body: ByteBuffer())
        }
        // TRACE: echo the request as received (its field values byte for byte), less
        // credentials (RFC 9110 §9.3.8).
        var echo = ByteBuffer(
            string: "\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\r\n")
        head.forEachField { name, value in
            if ASCII.matchesLowercase(name, "authorization") || ASCII.matchesLowercase(name, "proxy-authorization")
                || ASCII.matchesLowercase(name, "cookie")
            {
                return
            }
            echo.writeBytes(name)
            echo.writeStaticString(": ")
            echo.writeBytes(value)
            echo.writeStaticString("\r\n")
        }
        echo.writeStaticString("\r\n")
        headers.add(name: "Content-Type", value: "message/http")
        headers.add(name: "Content-Length", value: String(echo.readableBytes))
        return .answer(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), body: echo)
    }
}
