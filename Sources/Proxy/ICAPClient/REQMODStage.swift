import ICAP
import NIOCore
import NIOHTTP1

/// One request with a body through one REQMOD service, streaming: the body goes to the
/// service as it arrives from the client (or from the stage before), and what the service
/// makes of the request goes on to `downstream`. The body is never gathered whole:
///
/// - A `204` to the preview sends the original request on: the kept bytes first, the rest
///   straight from the client as it comes.
/// - A `200` with `req-hdr` sends the service's request on, its body streaming from the
///   service (re-framed as chunked: its length is not known until it ends).
/// - A `200` with `res-hdr` answers the client (request satisfaction); that response is a
///   page, gathered up to 1 MiB.
/// - A failure while every byte is still kept is bypassed for an optional service and ends in
///   a 503 page for an essential one; later it can only end the request with an error.
///
/// Loop-bound.
final class REQMODStage {
    private enum Phase {
        /// Waiting for the head (from the stage before).
        case idle
        /// The service is being asked; input goes to the exchange.
        case asking
        /// `204`, or a bypassed failure: the original goes on, input passes straight through.
        case passingThrough
        /// The service's request goes on, its body from the service.
        case adapted
        /// The service's response to the client is being gathered.
        case satisfying(HTTPResponseHead, body: ByteBuffer)
        case finished
    }

    /// The largest response a service may answer the client with.
    static let maxSatisfactionBytes = 1 << 20

    private let exchange: ICAPBodyExchange
    private let downstream: any RequestStreamSink
    private let clientIP: String
    /// Upstream may deliver more (it held reads while `mayTakeRequestBody` was false).
    var resumeUpstream: () -> Void = {}
    /// What the service said, for the access log: `name:204`, `name:200-req`…
    private(set) var note: String?

    private var phase = Phase.idle
    private var head: HTTPRequestHead?
    private var hasBody = false
    private var modifiedBefore = false
    private var inputEnded = false

    init(client: ICAPServiceClient, downstream: any RequestStreamSink, clientIP: String) {
        self.exchange = ICAPBodyExchange(client: client)
        self.downstream = downstream
        self.clientIP = clientIP
        self.exchange.delegate = self
    }

    private var service: ICAPServiceConfiguration { self.exchange.client.configuration }

    /// The downstream can take more again.
    func resume() {
        switch self.phase {
        case .adapted: self.exchange.resumeAnswer()
        case .passingThrough: self.resumeUpstream()
        default: break
        }
    }

    /// The exchange is abandoned (the client went away): the service's connection closes.
    func cancel() {
        self.phase = .finished
        self.exchange.cancel()
    }

    /// The original request goes on: its head, what was kept, then the rest as it comes.
    private func passThrough() {
        guard let head = self.head else { return }
        self.phase = .passingThrough
        self.downstream.requestHead(head, modified: self.modifiedBefore, hasBody: self.hasBody)
        for buffer in self.exchange.takeKept() { self.downstream.requestBody(buffer) }
        if self.inputEnded {
            self.phase = .finished
            self.downstream.requestEnd()
        } else {
            self.resumeUpstream()
        }
    }

    /// The ICAP request: the request head, its body, and a 204 allowed only while the body is
    /// kept (with a preview).
    private func icapRequest(preview: Int?) throws -> (ICAPRequestHead, ICAPEncapsulatedHeads) {
        guard let head = self.head else { throw ICAPClientError.malformed("no request head") }
        let client = self.exchange.client
        var headers = ICAPHeaders()
        headers.add(name: "Host", value: client.hostHeader)
        if !self.hasBody || preview != nil { headers.add(name: "Allow", value: "204") }
        if self.clientIP != "-" { headers.add(name: "X-Client-IP", value: self.clientIP) }
        if let preview { headers.add(name: "Preview", value: String(preview)) }
        let heads = try ICAPEncapsulatedHeads(request: head, body: self.hasBody ? .requestBody : .nullBody)
        return (ICAPRequestHead(method: .reqmod, uri: client.url, headers: headers), heads)
    }

    /// The service's request, framed for what follows: its body (if any) streams from the
    /// service with a length known only at its end.
    private static func reframed(_ head: HTTPRequestHead, hasBody: Bool) -> HTTPRequestHead {
        var head = head
        head.headers.remove(name: "Content-Length")
        head.headers.remove(name: "Transfer-Encoding")
        if hasBody { head.headers.add(name: "Transfer-Encoding", value: "chunked") }
        return head
    }
}

extension REQMODStage: RequestStreamSink {
    func requestHead(_ head: HTTPRequestHead, modified: Bool, hasBody: Bool) {
        self.head = head
        self.hasBody = hasBody
        self.modifiedBefore = modified
        self.phase = .asking
        self.exchange.start(hasBody: hasBody) { [unowned self] preview in try self.icapRequest(preview: preview) }
    }

    func requestBody(_ buffer: ByteBuffer) {
        switch self.phase {
        case .asking, .adapted, .satisfying: self.exchange.input(buffer)
        case .passingThrough: self.downstream.requestBody(buffer)
        case .idle, .finished: break
        }
    }

    func requestEnd() {
        self.inputEnded = true
        switch self.phase {
        case .asking, .adapted, .satisfying:
            self.exchange.endInput()
        case .passingThrough:
            self.phase = .finished
            self.downstream.requestEnd()
        case .idle, .finished:
            break
        }
    }

    func requestSatisfied(_ head: HTTPResponseHead, body: ByteBuffer) {
        self.cancel()
        self.downstream.requestSatisfied(head, body: body)
    }

    func requestFailed(_ reason: String) {
        self.cancel()
        self.downstream.requestFailed(reason)
    }

    var mayTakeRequestBody: Bool {
        switch self.phase {
        case .asking, .adapted, .satisfying: return self.exchange.mayTakeInput
        case .passingThrough: return self.downstream.mayTakeRequestBody
        case .idle: return false
        case .finished: return true
        }
    }
}

extension REQMODStage: ICAPBodyExchangeDelegate {
    func exchangeAnswered(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
        let name = self.service.name
        if head.statusCode == 204 {
            self.note = "\(name):204"
            self.passThrough()
        } else if let response = heads.response {
            self.note = "\(name):200-res"
            self.phase = .satisfying(response, body: ByteBuffer())
        } else if let request = heads.request {
            self.note = "\(name):200-req"
            self.phase = .adapted
            self.downstream.requestHead(
                Self.reframed(request, hasBody: heads.hasBody), modified: true, hasBody: heads.hasBody)
        } else {
            self.exchangeFailed(.malformed("a 200 with neither req-hdr nor res-hdr"), keptAllInput: false)
        }
    }

    func exchangeAnswerBody(_ buffer: ByteBuffer) {
        switch self.phase {
        case .adapted:
            self.downstream.requestBody(buffer)
        case .satisfying(let head, var body):
            guard body.readableBytes + buffer.readableBytes <= Self.maxSatisfactionBytes else {
                self.exchangeFailed(
                    .malformed("a response over \(Self.maxSatisfactionBytes) bytes for the client"), keptAllInput: false
                )
                return
            }
            var buffer = buffer
            body.writeBuffer(&buffer)
            self.phase = .satisfying(head, body: body)
        default:
            break
        }
    }

    func exchangeAnswerEnded() {
        switch self.phase {
        case .adapted:
            self.phase = .finished
            self.downstream.requestEnd()
        case .satisfying(let head, let body):
            self.phase = .finished
            self.downstream.requestSatisfied(head, body: body)
        default:
            break
        }
    }

    func exchangeFailed(_ error: ICAPClientError, keptAllInput: Bool) {
        if case .finished = self.phase { return }
        self.note = "\(self.service.name):\(error.label)"
        if self.service.bypass && keptAllInput, case .asking = self.phase {
            self.passThrough()
            return
        }
        self.cancel()
        self.downstream.requestFailed("ICAP service \(self.service.name): \(error)")
    }

    func exchangeWantsInput() { self.resumeUpstream() }

    var exchangeMayDeliver: Bool {
        if case .adapted = self.phase { return self.downstream.mayTakeRequestBody }
        return true
    }
}

@available(*, unavailable)
extension REQMODStage: Sendable {}
