import ICAP
import NIOCore
import NIOHTTP1

/// One response through one RESPMOD service, streaming: what comes in (from the origin, or
/// from the stage before) goes to the service (`ICAPBodyExchange`), and what the service makes
/// of it goes on to `downstream`. The body is never gathered whole:
///
/// - A `204` to the preview sends the original response on: the kept bytes first, the rest
///   straight from upstream as it comes.
/// - A `200` sends the service's response on as it arrives; if it came before the service
///   asked for the rest (a block page for a download), upstream is dropped.
/// - A failure while every byte is still kept is bypassed for an optional service (the
///   original goes on) and ends in a 503 page for an essential one; later it can only cut the
///   response short.
///
/// Loop-bound.
final class RESPMODStage {
    private enum Phase {
        /// The service is being asked; input goes to the exchange.
        case asking
        /// `204`, or a bypassed failure: the original goes on, input passes straight through.
        case passingThrough
        /// The service's answer goes on.
        case adapted
        case finished
    }

    private let exchange: ICAPBodyExchange
    private let downstream: any ResponseStreamSink
    private let request: HTTPRequestHead
    private let requestWasHEAD: Bool
    private let clientIP: String
    /// Upstream may deliver more (it held reads while `mayTakeResponseBody` was false).
    var resumeUpstream: () -> Void = {}
    /// Upstream's remaining body is not needed (the service answered without it).
    var dropUpstream: () -> Void = {}
    /// What the service said, for the access log: `name:204`, `name:timeout`…
    private(set) var note: String?

    private var phase = Phase.asking
    private var head: OriginResponseHead?
    private var inputEnded = false

    init(
        client: ICAPServiceClient, downstream: any ResponseStreamSink, request: HTTPRequestHead,
        requestWasHEAD: Bool, clientIP: String
    ) {
        self.exchange = ICAPBodyExchange(client: client)
        self.downstream = downstream
        self.request = request
        self.requestWasHEAD = requestWasHEAD
        self.clientIP = clientIP
        self.exchange.delegate = self
    }

    private var service: ICAPServiceConfiguration { self.exchange.client.configuration }

    /// The downstream can take more again.
    func resume() {
        switch self.phase {
        case .adapted: self.exchange.resumeAnswer()
        case .passingThrough: self.resumeUpstream()
        case .asking, .finished: break
        }
    }

    /// What this stage sends on is not needed any more (the next service answered without
    /// it): this exchange is abandoned and upstream dropped in turn.
    func outputNotNeeded() {
        let wasInputNeeded = !self.inputEnded
        self.cancel()
        if wasInputNeeded { self.dropUpstream() }
    }

    /// The exchange is abandoned (the client went away): the service's connection closes.
    func cancel() {
        self.phase = .finished
        self.exchange.cancel()
    }

    /// The original response goes on: its head, what was kept, then upstream's bytes as they come.
    private func passThrough() {
        guard let head = self.head else { return }
        self.phase = .passingThrough
        self.downstream.streamHead(head)
        for buffer in self.exchange.takeKept() { self.downstream.streamBody(buffer) }
        if self.inputEnded {
            self.phase = .finished
            self.downstream.streamEnd()
        } else {
            self.resumeUpstream()
        }
    }

    /// The ICAP request: the request and response heads, the body if there is one, and a
    /// 204 allowed only while the body is kept (for a bodiless response, or with a preview).
    private func icapRequest(preview: Int?, hasBody: Bool) throws -> (ICAPRequestHead, ICAPEncapsulatedHeads) {
        guard let head = self.head else { throw AdaptedResponseHead.Unusable(description: "no response head") }
        let client = self.exchange.client
        var headers = ICAPHeaders()
        headers.add(name: "Host", value: client.hostHeader)
        if !hasBody || preview != nil { headers.add(name: "Allow", value: "204") }
        if self.clientIP != "-" { headers.add(name: "X-Client-IP", value: self.clientIP) }
        if let preview { headers.add(name: "Preview", value: String(preview)) }
        // Both heads are already checked: the request's by the client decoder and
        // `HTTPHeadBytes.serialize`, the response's by `OriginResponseParser`.
        let heads = ICAPEncapsulatedHeads(
            checkedRequestHeadBytes: try HTTPHeadBytes.serialize(self.request), checkedResponseHeadBytes: head.bytes,
            body: hasBody ? .responseBody : .nullBody)
        return (ICAPRequestHead(method: .respmod, uri: client.url, headers: headers), heads)
    }
}

extension RESPMODStage: ResponseStreamSink {
    func streamHead(_ head: OriginResponseHead) {
        self.head = head
        let hasBody = head.fields.responseFraming(status: head.status, requestWasHEAD: self.requestWasHEAD) != .none
        if !hasBody { self.inputEnded = true }
        self.exchange.start(hasBody: hasBody) { [unowned self] preview in
            try self.icapRequest(preview: preview, hasBody: hasBody)
        }
    }

    func streamBody(_ buffer: ByteBuffer) {
        switch self.phase {
        case .asking, .adapted: self.exchange.input(buffer)
        case .passingThrough: self.downstream.streamBody(buffer)
        case .finished: break
        }
    }

    func streamEnd() {
        self.inputEnded = true
        switch self.phase {
        case .asking, .adapted:
            self.exchange.endInput()
        case .passingThrough:
            self.phase = .finished
            self.downstream.streamEnd()
        case .finished:
            break
        }
    }

    func streamFailed(_ reason: String) {
        guard case .finished = self.phase else {
            self.cancel()
            self.downstream.streamFailed(reason)
            return
        }
    }

    var mayTakeResponseBody: Bool {
        switch self.phase {
        case .asking, .adapted: return self.exchange.mayTakeInput
        case .passingThrough: return self.downstream.mayTakeResponseBody
        case .finished: return true
        }
    }
}

extension RESPMODStage: ICAPBodyExchangeDelegate {
    func exchangeAnswered(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
        let name = self.service.name
        if head.statusCode == 204 {
            self.note = "\(name):204"
            self.passThrough()
            return
        }
        guard let response = heads.response else {
            self.exchangeFailed(.malformed("a RESPMOD answer without res-hdr"), keptAllInput: false)
            return
        }
        let adapted: OriginResponseHead
        do {
            adapted = try AdaptedResponseHead.make(
                response, hasBody: heads.hasBody, requestWasHEAD: self.requestWasHEAD)
        } catch {
            self.exchangeFailed(.malformed(error.description), keptAllInput: false)
            return
        }
        self.note = "\(name):200"
        self.phase = .adapted
        if !self.exchange.sendsInput && !self.inputEnded { self.dropUpstream() }
        self.downstream.streamHead(adapted)
    }

    func exchangeAnswerBody(_ buffer: ByteBuffer) {
        guard case .adapted = self.phase else { return }
        self.downstream.streamBody(buffer)
    }

    func exchangeAnswerEnded() {
        guard case .adapted = self.phase else { return }
        self.phase = .finished
        if !self.inputEnded { self.dropUpstream() }
        self.downstream.streamEnd()
    }

    func exchangeFailed(_ error: ICAPClientError, keptAllInput: Bool) {
        if case .finished = self.phase { return }
        self.note = "\(self.service.name):\(error.label)"
        if self.service.bypass && keptAllInput && self.phase == .asking {
            self.passThrough()
            return
        }
        self.exchange.cancel()
        self.phase = .finished
        if !self.inputEnded { self.dropUpstream() }
        self.downstream.streamFailed("ICAP service \(self.service.name): \(error)")
    }

    func exchangeWantsInput() {
        if case .asking = self.phase { self.resumeUpstream() }
        if case .adapted = self.phase { self.resumeUpstream() }
    }

    /// Only the adapted body waits for the downstream: until the answer's head has come, its
    /// reads must go on (the next stage cannot take anything before it has a head).
    var exchangeMayDeliver: Bool {
        if case .adapted = self.phase { return self.downstream.mayTakeResponseBody }
        return true
    }
}

@available(*, unavailable)
extension RESPMODStage: Sendable {}
