import ICAP
import NIOCore
import NIOHTTP1

/// One response through one RESPMOD service, streaming: what comes in (from the origin, or
/// from the stage before) goes to the service, and what the service makes of it goes on to
/// `downstream`. The body is never gathered whole:
///
/// - With a preview (the service's `Preview` from OPTIONS, or `preview=N`), the first bytes go
///   as the preview and are kept. A `204` then sends the original response on, the kept bytes
///   first and the rest straight from upstream; a `100 Continue` streams the rest of the body
///   to the service; a `200` (a block page, say) ends the need for the rest: upstream is dropped.
/// - Without one, the body streams to the service as it comes (no `Allow: 204`: nothing is
///   kept to fall back on).
///
/// A failure before anything went on (connect, suspended, a timeout on the preview) is
/// bypassed for an optional service (the original goes on) and ends in a 503 page for an
/// essential one; after that it can only cut the response short. Loop-bound.
final class RESPMODStage {
    private enum Phase {
        /// Waiting for a connection; input is kept.
        case connecting
        /// The head is sent; the preview's bytes are being gathered (kept).
        case preview
        /// The preview (or a bodiless response) is sent; the answer is awaited; input is kept.
        case awaitingAnswer
        /// `100 Continue`, or no preview: input streams to the service.
        case streaming
        /// `204`, or a bypassed failure: the original goes on, input passes straight through.
        case passingThrough
        /// The service's answer goes on; input goes to the service while it still reads it
        /// (`sendingInput`), else is dropped.
        case adapted(sendingInput: Bool)
        case finished
    }

    private let client: ICAPServiceClient
    private let downstream: any ResponseStreamSink
    private let request: HTTPRequestHead
    private let requestWasHEAD: Bool
    private let clientIP: String
    /// Upstream may deliver more (it held reads while `mayTakeBody` was false).
    var resumeUpstream: () -> Void = {}
    /// Upstream's remaining body is not needed (the service answered without it).
    var dropUpstream: () -> Void = {}
    /// What the service said, for the access log: `name:204`, `name:timeout`…
    private(set) var note: String?

    private var phase = Phase.connecting
    private var head: OriginResponseHead?
    private var hasBody = false
    private var previewSize: Int?
    /// Input kept while it may still have to go on unmodified.
    private var kept: [ByteBuffer] = []
    private var keptBytes = 0
    private var inputEnded = false
    private var lease: ICAPServiceClient.Lease?
    private var retried = false

    init(
        client: ICAPServiceClient, downstream: any ResponseStreamSink, request: HTTPRequestHead,
        requestWasHEAD: Bool, clientIP: String
    ) {
        self.client = client
        self.downstream = downstream
        self.request = request
        self.requestWasHEAD = requestWasHEAD
        self.clientIP = clientIP
    }

    /// The downstream can take more again.
    func resume() {
        switch self.phase {
        case .adapted: self.lease?.connection.handler.resumeReading()
        case .passingThrough: self.resumeUpstream()
        default: break
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
        self.kept = []
        self.abandonLease()
    }

    // MARK: the service

    private func connect(fresh: Bool) {
        self.phase = .connecting
        self.client.acquire(fresh: fresh) { result in
            guard case .connecting = self.phase else {
                if case .success(let lease) = result { self.client.release(lease.connection) }
                return
            }
            switch result {
            case .success(let lease):
                self.lease = lease
                self.begin(on: lease.connection.handler)
            case .failure(let error):
                self.failed(error)
            }
        }
    }

    private func begin(on handler: ICAPClientHandler) {
        guard let head = self.head else { return }
        let preview = self.hasBody ? self.client.previewSize : nil
        self.previewSize = preview
        var headers = ICAPHeaders()
        headers.add(name: "Host", value: self.client.hostHeader)
        // A 204 is only usable while the body is kept: for a bodiless response or a preview.
        if !self.hasBody || preview != nil { headers.add(name: "Allow", value: "204") }
        if self.clientIP != "-" { headers.add(name: "X-Client-IP", value: self.clientIP) }
        if let preview { headers.add(name: "Preview", value: String(preview)) }
        let heads: ICAPEncapsulatedHeads
        do {
            heads = try ICAPEncapsulatedHeads(
                requestHeadBytes: try HTTPHeadBytes.serialize(self.request), responseHeadBytes: head.bytes,
                body: self.hasBody ? .responseBody : .nullBody)
        } catch {
            self.failed(.malformed("the response cannot be sent to the service: \(error)"))
            return
        }
        self.phase = self.hasBody ? (preview != nil ? .preview : .streaming) : .awaitingAnswer
        let icapHead = ICAPRequestHead(method: .respmod, uri: self.client.configuration.url, headers: headers)
        handler.begin(icapHead, heads, receiver: self)
        switch self.phase {
        case .preview:
            self.sendPreviewIfReady()
        case .streaming:
            for buffer in self.kept { handler.writeBody(buffer) }
            self.kept = []
            self.keptBytes = 0
            if self.inputEnded { handler.end() } else { handler.flush() }
            self.resumeUpstream()
        default:
            break
        }
    }

    /// Sends the preview once enough bytes (or the whole body) are in.
    private func sendPreviewIfReady() {
        guard case .preview = self.phase, let preview = self.previewSize, let handler = self.lease?.connection.handler
        else { return }
        guard self.keptBytes >= preview || self.inputEnded else { return }
        var remaining = preview
        for buffer in self.kept where remaining > 0 {
            let slice = buffer.getSlice(at: buffer.readerIndex, length: min(remaining, buffer.readableBytes))!
            handler.writeBody(slice)
            remaining -= slice.readableBytes
        }
        self.phase = .awaitingAnswer
        handler.endPreview(ieof: self.inputEnded && self.keptBytes <= preview)
    }

    /// The original response goes on: its head, what was kept, then upstream's bytes as they come.
    private func passThrough() {
        guard let head = self.head else { return }
        self.phase = .passingThrough
        self.downstream.streamHead(head)
        let kept = self.kept
        self.kept = []
        self.keptBytes = 0
        for buffer in kept { self.downstream.streamBody(buffer) }
        if self.inputEnded {
            self.phase = .finished
            self.downstream.streamEnd()
        } else {
            self.resumeUpstream()
        }
    }

    private func failed(_ error: ICAPClientError, onReusedConnection: Bool = false) {
        let service = self.client.configuration
        switch self.phase {
        case .passingThrough, .finished:
            // Everything needed is in hand (a 204 came): the connection's end changes nothing.
            self.lease = nil
            return
        default:
            break
        }
        // A reused connection the service closed as we sent: nothing was lost, try a new one.
        if error == .closed, onReusedConnection, !self.retried, self.keepsAllInput {
            self.retried = true
            self.lease = nil
            self.connect(fresh: true)
            return
        }
        if error != .suspended { self.client.noteFailure() }
        self.note = "\(service.name):\(error.label)"
        self.abandonLease()
        if service.bypass && self.keepsAllInput {
            self.passThrough()
            return
        }
        var wasSendingInput = true
        if case .adapted(let sending) = self.phase { wasSendingInput = sending }
        self.phase = .finished
        self.kept = []
        if !self.inputEnded && wasSendingInput { self.dropUpstream() }
        self.downstream.streamFailed("ICAP service \(service.name): \(error)")
    }

    /// Whether every input byte taken so far is still kept (nothing went on yet).
    private var keepsAllInput: Bool {
        switch self.phase {
        case .connecting, .preview, .awaitingAnswer: return true
        default: return false
        }
    }

    private func abandonLease() {
        if let lease = self.lease {
            self.lease = nil
            lease.connection.handler.abandon()
        }
    }
}

extension RESPMODStage: ResponseStreamSink {
    func streamHead(_ head: OriginResponseHead) {
        self.head = head
        self.hasBody = head.fields.responseFraming(status: head.status, requestWasHEAD: self.requestWasHEAD) != .none
        self.connect(fresh: false)
    }

    func streamBody(_ buffer: ByteBuffer) {
        switch self.phase {
        case .connecting, .awaitingAnswer:
            self.keep(buffer)
        case .preview:
            self.keep(buffer)
            self.sendPreviewIfReady()
        case .streaming, .adapted(sendingInput: true):
            guard let handler = self.lease?.connection.handler else { return }
            handler.writeBody(buffer)
            handler.flush()
        case .passingThrough:
            self.downstream.streamBody(buffer)
        case .adapted(sendingInput: false), .finished:
            break
        }
    }

    func streamEnd() {
        self.inputEnded = true
        switch self.phase {
        case .preview:
            self.sendPreviewIfReady()
        case .streaming, .adapted(sendingInput: true):
            self.lease?.connection.handler.end()
        case .passingThrough:
            self.phase = .finished
            self.downstream.streamEnd()
        case .connecting, .awaitingAnswer, .adapted(sendingInput: false), .finished:
            break
        }
    }

    func streamFailed(_ reason: String) {
        switch self.phase {
        case .finished:
            return
        default:
            self.phase = .finished
            self.kept = []
            self.abandonLease()
            self.downstream.streamFailed(reason)
        }
    }

    var mayTakeBody: Bool {
        switch self.phase {
        case .connecting, .awaitingAnswer: return false
        case .preview: return self.keptBytes < (self.previewSize ?? 0)
        case .streaming, .adapted(sendingInput: true): return self.lease?.connection.handler.isWritable ?? false
        case .passingThrough: return self.downstream.mayTakeBody
        case .adapted(sendingInput: false), .finished: return true
        }
    }

    private func keep(_ buffer: ByteBuffer) {
        self.kept.append(buffer)
        self.keptBytes += buffer.readableBytes
    }
}

extension RESPMODStage: ICAPExchangeReceiver {
    func icapContinue() {
        guard case .awaitingAnswer = self.phase, let handler = self.lease?.connection.handler else { return }
        self.phase = .streaming
        var skip = self.previewSize ?? 0
        for var buffer in self.kept {
            let sent = min(skip, buffer.readableBytes)
            skip -= sent
            buffer.moveReaderIndex(forwardBy: sent)
            if buffer.readableBytes > 0 { handler.writeBody(buffer) }
        }
        self.kept = []
        self.keptBytes = 0
        if self.inputEnded { handler.end() } else { handler.flush() }
        self.resumeUpstream()
    }

    func icapResponseHead(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
        let name = self.client.configuration.name
        switch head.statusCode {
        case 204:
            guard self.keepsAllInput else {
                self.failed(.malformed("a 204 after the body was sent on (it is no longer kept)"))
                return
            }
            self.client.noteSuccess(istag: head.istag)
            self.note = "\(name):204"
            self.passThrough()
        case 200:
            guard let response = heads.response else {
                self.failed(.malformed("a RESPMOD answer without res-hdr"))
                return
            }
            let adapted: OriginResponseHead
            do {
                adapted = try AdaptedResponseHead.make(
                    response, hasBody: heads.hasBody, requestWasHEAD: self.requestWasHEAD)
            } catch {
                self.failed(.malformed(error.description))
                return
            }
            self.client.noteSuccess(istag: head.istag)
            self.note = "\(name):200"
            var sendingInput = false
            if case .streaming = self.phase { sendingInput = !self.inputEnded }
            if !sendingInput && !self.inputEnded { self.dropUpstream() }
            self.kept = []
            self.keptBytes = 0
            self.phase = .adapted(sendingInput: sendingInput)
            self.downstream.streamHead(adapted)
        default:
            self.failed(.status(head.statusCode))
        }
    }

    func icapResponseBody(_ buffer: ByteBuffer) {
        guard case .adapted = self.phase else { return }
        self.downstream.streamBody(buffer)
    }

    func icapExchangeEnded() {
        if let lease = self.lease {
            self.lease = nil
            self.client.release(lease.connection)
        }
        guard case .adapted(let sendingInput) = self.phase else { return }
        self.phase = .finished
        if sendingInput && !self.inputEnded { self.dropUpstream() }
        self.downstream.streamEnd()
    }

    func icapExchangeFailed(_ error: ICAPClientError) {
        let reused = self.lease?.reused ?? false
        self.lease = nil
        self.failed(error, onReusedConnection: reused)
    }

    func icapWritabilityChanged(isWritable: Bool) {
        if isWritable { self.resumeUpstream() }
    }

    var icapMayRead: Bool {
        if case .adapted = self.phase { return self.downstream.mayTakeBody }
        return true
    }
}

@available(*, unavailable)
extension RESPMODStage: Sendable {}
