import ICAP
import Logging
import NIOCore
import NIOHTTP1

/// The configured ICAP services of one event loop: REQMOD and RESPMOD, each in chain order.
/// Loop-bound.
final class ICAPServices {
    /// The REQMOD services, asked about each request in this order.
    let clients: [ICAPServiceClient]
    /// The RESPMOD services, each response streaming through them in this order.
    let responseClients: [ICAPServiceClient]

    /// The REQMOD chain's services as `REQMODChain` sees them (made once, not per request).
    private let chain: [REQMODChain.Service]

    init(clients: [ICAPServiceClient], responseClients: [ICAPServiceClient] = []) {
        self.clients = clients
        self.responseClients = responseClients
        self.chain = clients.map {
            REQMODChain.Service(name: $0.configuration.name, bypass: $0.configuration.bypass, notes: $0.notes)
        }
    }

    var isEmpty: Bool { self.clients.isEmpty && self.responseClients.isEmpty }

    /// Runs `head` and `body` (nil: none) through every service in order and calls
    /// `completion` with the outcome and the access log notes (`name:204`, …).
    func adaptRequest(
        _ head: HTTPRequestHead, body: ByteBuffer?, clientIP: String,
        completion: @escaping (REQMODChain.Outcome, _ notes: [String]) -> Void
    ) {
        let chain = REQMODChain(head: head, body: body, services: self.chain)
        var started = chain
        self.step(started.start(), chain: started, clientIP: clientIP, completion: completion)
    }

    private func step(
        _ step: REQMODChain.Step, chain: REQMODChain, clientIP: String,
        completion: @escaping (REQMODChain.Outcome, [String]) -> Void
    ) {
        switch step {
        case .finished(let outcome):
            completion(outcome, chain.notes)
        case .ask(let index, let head, let body):
            let client = self.clients[index]
            let request: ICAPClientRequest
            do {
                request = try Self.reqmod(head, body: body, for: client, clientIP: clientIP)
            } catch {
                var chain = chain
                let next = chain.answered(.failure(.malformed("\(error)")))
                self.step(next, chain: chain, clientIP: clientIP, completion: completion)
                return
            }
            client.exchange(request) { result in
                var chain = chain
                let next = chain.answered(result)
                self.step(next, chain: chain, clientIP: clientIP, completion: completion)
            }
        }
    }

    /// The REQMOD request: `Host`, `Allow: 204`, `X-Client-IP`, the head as `req-hdr` (the
    /// encoder writes `Encapsulated`) and, with a body, `req-body` and the service's `Preview`.
    static func reqmod(
        _ head: HTTPRequestHead, body: ByteBuffer?, for client: ICAPServiceClient, clientIP: String
    ) throws -> ICAPClientRequest {
        var headers = ICAPHeaders()
        headers.add(name: "Host", value: client.hostHeader)
        headers.add(name: "Allow", value: "204")
        if clientIP != "-" { headers.add(name: "X-Client-IP", value: clientIP) }
        if body != nil, let preview = client.previewSize { headers.add(name: "Preview", value: String(preview)) }
        let heads = try ICAPEncapsulatedHeads(request: head, body: body == nil ? .nullBody : .requestBody)
        return ICAPClientRequest(
            head: ICAPRequestHead(method: .reqmod, uri: client.url, headers: headers), heads: heads,
            body: body)
    }
}

@available(*, unavailable)
extension ICAPServices: Sendable {}

/// Every loop's `ICAPServices`.
struct ICAPServiceGroups: Sendable {
    private let services: PerEventLoop<ICAPServices>

    init(
        configurations: [ICAPServiceConfiguration], group: any EventLoopGroup, connectTimeout: TimeAmount,
        readTimeout: TimeAmount, logger: Logger
    ) {
        let loopCount = Array(group.makeIterator()).count
        self.services = PerEventLoop(group: group) { loop in
            let clients = configurations.map {
                ICAPServiceClient(
                    configuration: $0, loop: loop, loopCount: loopCount, connectTimeout: connectTimeout,
                    readTimeout: readTimeout, logger: logger)
            }
            return ICAPServices(
                clients: clients.filter { $0.configuration.method == .reqmod },
                responseClients: clients.filter { $0.configuration.method == .respmod })
        }
    }

    var isEmpty: Bool { self.services.loops.allSatisfy { self.services.value(for: $0).isEmpty } }

    func services(for loop: any EventLoop) -> ICAPServices { self.services.value(for: loop) }

    /// Fetches every service's OPTIONS on every loop (in the background).
    func start(group: any EventLoopGroup) {
        self.services.onEachLoopLater { services in
            for client in services.clients + services.responseClients { client.fetchOptions() }
        }
    }

    /// Closes idle service connections on every loop (shutdown).
    func closeAll(group: any EventLoopGroup) async {
        await self.services.onEachLoop { services in
            for client in services.clients + services.responseClients { client.close() }
        }
    }
}
