import Foundation
import NIOCore
import NIOHTTP1
import Policy

/// Puts a planned request before the policy snapshot and turns the decision into what the
/// proxy does: forward as planned, refuse with the group's block page (403), redirect (302),
/// or send the request (or tunnel) to another host. Pure: no I/O; the time is passed in.
struct PolicyGate {
    /// What the policy decided for one request, kept for the page and the log.
    struct Outcome {
        let decision: Decision
        let facts: RequestFacts
        /// The snapshot that decided: the request's page comes from it, even if a newer one
        /// arrives meanwhile.
        let snapshot: PolicySnapshot
        /// The access log's policy field.
        let label: String

        /// Fills in what a block page shows: the host, group, list, category, rule and why.
        func blockPageValues(_ values: inout PageValues) {
            let trace = self.snapshot.trace(self.decision, facts: self.facts)
            values.host = self.facts.host
            values.group = trace.group
            values.list = trace.list ?? ""
            values.category = trace.category ?? ""
            values.rule = trace.rulePosition.map(String.init) ?? "default"
            values.reason =
                "Blocked by the rule \(values.rule) of the group \(trace.group)"
                + (trace.entry.map { " (entry \($0))" } ?? "") + "."
        }

        /// The 302 a `redirect` rule answers with, its target's `%` placeholders filled in.
        func redirectResponse(to template: String, via: String) -> HTTPResponseHead {
            let trace = self.snapshot.trace(self.decision, facts: self.facts)
            let location = RedirectTarget.substitute(
                template, client: self.facts.client?.description ?? "-", url: self.facts.url,
                category: trace.category ?? "", group: trace.group)
            var headers = HTTPHeaders()
            headers.add(name: "Location", value: location)
            headers.add(name: "Content-Length", value: "0")
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "Via", value: via)
            return HTTPResponseHead(version: .http1_1, status: .found, headers: headers)
        }
    }

    /// Decides `facts` with `snapshot` at `now`.
    static func decide(_ facts: RequestFacts, snapshot: PolicySnapshot, now: Date) -> Outcome {
        let decision = snapshot.decide(facts, at: now)
        return Outcome(decision: decision, facts: facts, snapshot: snapshot, label: snapshot.logLabel(decision))
    }

    static func apply(
        _ disposition: RequestDisposition, client: IPAddress128?, snapshot: PolicySnapshot, now: Date, via: String
    ) -> (RequestDisposition, Outcome?) {
        let facts: RequestFacts
        switch disposition {
        case .forward(let plan):
            facts = RequestFacts(
                scheme: plan.target.scheme == "ws" ? "http" : plan.target.scheme, host: plan.target.host,
                port: plan.target.port, path: plan.target.originForm, client: client)
        case .tunnel(let target):
            facts = RequestFacts(
                scheme: "https", host: target.host, port: target.port, path: "/", client: client, isConnect: true)
        case .reject, .answer:
            return (disposition, nil)
        }
        let outcome = Self.decide(facts, snapshot: snapshot, now: now)
        switch (outcome.decision.action, disposition) {
        case (.allow, _):
            return (disposition, outcome)
        case (.deny, _):
            let page = LocalPage.blocked(template: snapshot.blockPage(outcome.decision))
            return (.reject(page, reason: "blocked by policy", url: facts.url), outcome)
        case (.redirect(let template), _):
            return (.answer(outcome.redirectResponse(to: template, via: via), body: ByteBuffer()), outcome)
        case (.intercept(let host, let port), .forward(let plan)):
            return (.forward(plan.intercepted(host: host, port: port ?? plan.target.port)), outcome)
        case (.intercept(let host, let port), .tunnel(let target)):
            return (
                .tunnel(RequestTarget(scheme: target.scheme, host: host, port: port ?? target.port, originForm: "")),
                outcome
            )
        case (.intercept, _):
            return (disposition, outcome)
        }
    }
}

/// squidGuard's redirect substitutions: `%a` client address, `%u` requested URL, `%t` list
/// category, `%s` group, `%%` a percent sign. Values are percent-encoded for a query string.
enum RedirectTarget {
    static func substitute(_ template: String, client: String, url: String, category: String, group: String) -> String {
        guard template.contains("%") else { return template }
        var result = ""
        var iterator = template.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "a": result += Self.encode(client)
            case "u": result += Self.encode(url)
            case "t": result += Self.encode(category)
            case "s": result += Self.encode(group)
            case "%": result += "%"
            case let other?: result += "%" + String(other)
            case nil: result += "%"
            }
        }
        return result
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func encode(_ value: String) -> String {
        var result = ""
        for byte in value.utf8 {
            if Self.unreserved.contains(byte) {
                result.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                result +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
