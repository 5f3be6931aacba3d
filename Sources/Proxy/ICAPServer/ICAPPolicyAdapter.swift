import Foundation
import ICAP
import NIOCore
import NIOHTTP1
import Policy

/// The policy as an ICAP service: REQMOD decides the encapsulated request with the same
/// snapshot and rules as the proxy, and answers with the block page (request satisfaction),
/// the redirect, the intercepted request, or "unchanged"; a request whose URL (or `Host`) it
/// cannot read is answered with the 400 page, not passed undecided. RESPMOD decides the request the
/// response answers the same way: a denied one is answered with the block page instead, a
/// redirected one with the redirect; anything else goes on unchanged.
/// One per ICAP connection, used on its event loop.
struct ICAPPolicyAdapter: ICAPServerAdapter {
    let policy: LoopPolicy
    let environment: ProxyEnvironment
    let allocator: ByteBufferAllocator

    /// Changes with every new policy generation.
    var istag: String { "\"PC-\(self.policy.snapshot.generation)\"" }

    func adaptRequest(_ request: HTTPRequestHead, icap: ICAPRequestHead) -> ICAPAdaptation {
        let client = icap.headers.first(name: "X-Client-IP").flatMap { IPAddress128(parsing: $0) }
        let user = icap.headers.first(name: "X-Client-Username") ?? icap.headers.first(name: "X-Authenticated-User")
        let snapshot = self.policy.snapshot
        guard let facts = Self.facts(of: request, client: client, user: user) else {
            // A request whose destination the policy cannot read is not let through undecided.
            var values = PageValues(
                status: 0, title: "", reason: "the request's URL cannot be read", url: request.uri,
                client: client?.description ?? "-", requestID: "icap-\(snapshot.generation)-unreadable")
            values.host = "-"
            let (head, body) = self.environment.localResponse(
                .badRequest, values: values, snapshot: snapshot, closeAfter: false, allocator: self.allocator)
            return .respond(head, body: body)
        }
        let outcome = PolicyGate.decide(facts, snapshot: snapshot, now: Date())
        switch outcome.decision.action {
        case .allow:
            return .unchanged
        case .deny:
            var values = PageValues(
                status: 0, title: "", reason: "", url: facts.url, client: client?.description ?? "-",
                requestID: "icap-\(snapshot.generation)-\(UInt32.random(in: 0...UInt32.max))")
            outcome.blockPageValues(&values)
            let (head, body) = self.environment.localResponse(
                .blocked(template: snapshot.blockPage(outcome.decision)), values: values, snapshot: snapshot,
                closeAfter: false, allocator: self.allocator)
            return .respond(head, body: body)
        case .redirect(let template):
            return .respond(
                outcome.redirectResponse(to: template, via: self.environment.planner.via.http11), body: ByteBuffer())
        case .intercept(let host, let port):
            var intercepted = request
            intercepted.uri = Self.uri(of: facts, host: host, port: port ?? facts.port)
            return .modifiedRequest(intercepted)
        }
    }

    func adaptResponse(
        _ response: HTTPResponseHead, request: HTTPRequestHead?, icap: ICAPRequestHead
    )
        -> ICAPAdaptation
    {
        guard let request else { return .unchanged }
        switch self.adaptRequest(request, icap: icap) {
        case .respond(let head, let body): return .respond(head, body: body)
        default: return .unchanged
        }
    }

    /// The facts of an encapsulated request: absolute-form (what Squid sends), a CONNECT's
    /// authority, or origin-form with its Host header.
    static func facts(of request: HTTPRequestHead, client: IPAddress128?, user: String?) -> RequestFacts? {
        if request.method.isCONNECT {
            guard let target = try? RequestTarget(authorityForm: request.uri) else { return nil }
            return RequestFacts(
                scheme: "https", host: target.host, port: target.port, path: "/", client: client, user: user,
                isConnect: true)
        }
        if request.uri.contains("://") { return try? RequestFacts(url: request.uri, client: client, user: user) }
        guard let host = request.headers.first(name: "Host") else { return nil }
        return try? RequestFacts(url: "http://\(host)\(request.uri)", client: client, user: user)
    }

    /// The request-target that sends the same request to `host`:`port`.
    static func uri(of facts: RequestFacts, host: String, port: Int) -> String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        if facts.isConnect { return "\(hostPart):\(port)" }
        let defaultPort = facts.scheme == "https" ? 443 : 80
        return "\(facts.scheme)://\(hostPart)\(port == defaultPort ? "" : ":\(port)")\(facts.path)"
    }
}
