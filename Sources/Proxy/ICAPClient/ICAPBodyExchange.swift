import ICAP
import NIOCore

/// What an `ICAPBodyExchange` reports to the stage that drives it. Loop-bound.
protocol ICAPBodyExchangeDelegate: AnyObject {
    /// The service's final answer (200 or 204; a 204 only while every input byte is kept).
    func exchangeAnswered(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads)
    func exchangeAnswerBody(_ buffer: ByteBuffer)
    func exchangeAnswerEnded()
    /// The exchange failed; `keptAllInput`: nothing of the input went on to the service beyond
    /// what is still kept (`takeKept()`), so the message can still go on unmodified.
    func exchangeFailed(_ error: ICAPClientError, keptAllInput: Bool)
    /// More input can be taken now (it was refused by `mayTakeInput`).
    func exchangeWantsInput()
    /// Whether the stage can pass more of the answer on now.
    var exchangeMayDeliver: Bool { get }
}

/// The transport of one ICAP exchange about a message that is still streaming in: a REQMOD of
/// a request with a body, a RESPMOD of a response. It leases a connection, sends the head,
/// keeps the first input bytes and sends them as the preview, waits for the service's word on
/// it, streams the rest after `100 Continue`, and hands the answer to its stage part by part.
/// What the answer means is the stage's business (`REQMODStage`, `RESPMODStage`). Loop-bound.
final class ICAPBodyExchange {
    private enum Phase {
        case idle
        /// Waiting for a connection; input is kept.
        case connecting
        /// The head is sent; the preview's bytes are being gathered (kept).
        case preview
        /// The preview (or the bodiless message) is sent; the answer is awaited; input is kept.
        case awaitingAnswer
        /// `100 Continue`, or no preview: input streams to the service.
        case streaming
        /// The final answer came; input goes to the service while it still reads it.
        case answered(sendingInput: Bool)
        case finished
    }

    /// Builds the ICAP request once the connection is there (and with it the service's
    /// preview size: nil when no preview is sent).
    typealias RequestBuilder = (_ preview: Int?) throws -> (ICAPRequestHead, ICAPEncapsulatedHeads)

    let client: ICAPServiceClient
    weak var delegate: (any ICAPBodyExchangeDelegate)?
    private var phase = Phase.idle
    private var build: RequestBuilder?
    private var hasBody = false
    private var previewSize: Int?
    private var kept = KeptInput()
    private(set) var inputEnded = false
    private var lease: ICAPServiceClient.Lease?
    private var retried = false

    init(client: ICAPServiceClient) {
        self.client = client
    }

    /// Starts the exchange. `hasBody`: input follows (with `input` and `inputEnded`).
    func start(hasBody: Bool, build: @escaping RequestBuilder) {
        self.hasBody = hasBody
        self.build = build
        self.connect(fresh: false)
    }

    /// Whether the service still reads input (after a 200 it may, when it answered while the
    /// body was streaming to it).
    var sendsInput: Bool {
        switch self.phase {
        case .answered(let sending): return sending
        case .finished: return false
        default: return true
        }
    }

    /// Whether every input byte taken so far is still kept (nothing went on yet).
    var keepsAllInput: Bool {
        switch self.phase {
        case .idle, .connecting, .preview, .awaitingAnswer: return true
        default: return false
        }
    }

    /// The input kept so far, handed over (for a 204, or a bypassed failure).
    func takeKept() -> [ByteBuffer] { self.kept.takeAll() }

    func input(_ buffer: ByteBuffer) {
        switch self.phase {
        case .idle, .connecting, .awaitingAnswer:
            self.kept.keep(buffer)
        case .preview:
            self.kept.keep(buffer)
            self.sendPreviewIfReady()
        case .streaming, .answered(sendingInput: true):
            guard let handler = self.lease?.connection.handler else { return }
            handler.writeBody(buffer)
            handler.flush()
        case .answered(sendingInput: false), .finished:
            break
        }
    }

    func endInput() {
        self.inputEnded = true
        switch self.phase {
        case .preview:
            self.sendPreviewIfReady()
        case .streaming, .answered(sendingInput: true):
            self.lease?.connection.handler.end()
        default:
            break
        }
    }

    /// Whether more input can be taken now (backpressure).
    var mayTakeInput: Bool {
        switch self.phase {
        case .idle, .connecting, .awaitingAnswer: return false
        // One read past the preview's size: it tells whether the body goes on (more bytes) or
        // ends inside it (its end), which makes the preview `ieof` and spares a round trip.
        case .preview: return self.kept.byteCount <= (self.previewSize ?? 0)
        case .streaming, .answered(sendingInput: true): return self.lease?.connection.handler.isWritable ?? false
        case .answered(sendingInput: false), .finished: return true
        }
    }

    /// The stage can pass more of the answer on again.
    func resumeAnswer() { self.lease?.connection.handler.resumeReading() }

    /// The exchange is given up; nothing more is reported. Its connection closes, unless all
    /// that is left of it is the end of a `204` (the message often completes inside the
    /// `204`'s own callback): then the connection goes back to the pool when that end comes.
    func cancel() {
        self.kept = KeptInput()
        self.delegate = nil
        if case .answered(sendingInput: false) = self.phase, self.lastStatus == 204, self.lease != nil {
            return
        }
        self.phase = .finished
        if let lease = self.lease {
            self.lease = nil
            lease.connection.handler.abandon()
        }
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
        guard let build = self.build else { return }
        let preview = self.hasBody ? self.client.previewSize : nil
        self.previewSize = preview
        let head: ICAPRequestHead
        let heads: ICAPEncapsulatedHeads
        do {
            (head, heads) = try build(preview)
        } catch {
            self.failed(.malformed("the message cannot be sent to the service: \(error)"))
            return
        }
        self.phase = self.hasBody ? (preview != nil ? .preview : .streaming) : .awaitingAnswer
        handler.begin(head, heads, receiver: self)
        switch self.phase {
        case .preview:
            self.sendPreviewIfReady()
            // Input was held while the connection was coming: the preview may need more.
            if case .preview = self.phase { self.delegate?.exchangeWantsInput() }
        case .streaming:
            for buffer in self.kept.takeAll() { handler.writeBody(buffer) }
            if self.inputEnded { handler.end() } else { handler.flush() }
            self.delegate?.exchangeWantsInput()
        default:
            break
        }
    }

    /// Sends the preview once more bytes than it holds are in (the body goes on), or the body's
    /// end (it fits: `ieof`). A body exactly the preview's size waits for whichever comes next.
    private func sendPreviewIfReady() {
        guard case .preview = self.phase, let preview = self.previewSize, let handler = self.lease?.connection.handler
        else { return }
        guard self.kept.byteCount > preview || self.inputEnded else { return }
        for slice in self.kept.prefix(preview) { handler.writeBody(slice) }
        self.phase = .awaitingAnswer
        handler.endPreview(ieof: self.inputEnded && self.kept.byteCount <= preview)
    }

    private func failed(_ error: ICAPClientError, onReusedConnection: Bool = false) {
        switch self.phase {
        case .finished:
            return
        case .answered where error == .closed:
            // A connection that closes after a 204 loses nothing: the answer is complete.
            if case .answered(sendingInput: false) = self.phase, self.lastStatus == 204 {
                self.phase = .finished
                self.lease = nil
                return
            }
        default:
            break
        }
        // A reused connection the service closed as we sent: nothing was lost, try a new one.
        if error == .closed, onReusedConnection, !self.retried, self.keepsAllInput, self.lastStatus == nil {
            self.retried = true
            self.lease = nil
            self.connect(fresh: true)
            return
        }
        if error != .suspended { self.client.noteFailure(error) }
        let keptAll = self.keepsAllInput
        self.phase = .finished
        if let lease = self.lease {
            self.lease = nil
            lease.connection.handler.abandon()
        }
        self.delegate?.exchangeFailed(error, keptAllInput: keptAll)
    }

    /// The status of the final answer, once it came.
    private var lastStatus: Int?
}

extension ICAPBodyExchange: ICAPExchangeReceiver {
    func icapContinue() {
        guard case .awaitingAnswer = self.phase, let handler = self.lease?.connection.handler else { return }
        self.phase = .streaming
        for buffer in self.kept.dropping(self.previewSize ?? 0) { handler.writeBody(buffer) }
        self.kept = KeptInput()
        if self.inputEnded { handler.end() } else { handler.flush() }
        self.delegate?.exchangeWantsInput()
    }

    func icapResponseHead(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
        switch head.statusCode {
        case 204 where !self.keepsAllInput:
            self.failed(.malformed("a 204 after the body was sent on (it is no longer kept)"))
        case 200, 204:
            self.lastStatus = head.statusCode
            self.client.noteSuccess(istag: head.istag)
            var sendingInput = false
            if case .streaming = self.phase { sendingInput = !self.inputEnded }
            self.phase = .answered(sendingInput: sendingInput)
            self.delegate?.exchangeAnswered(head, heads)
        default:
            self.failed(.status(head.statusCode))
        }
    }

    func icapResponseBody(_ buffer: ByteBuffer) {
        guard case .answered = self.phase else { return }
        self.delegate?.exchangeAnswerBody(buffer)
    }

    func icapExchangeEnded() {
        if let lease = self.lease {
            self.lease = nil
            self.client.release(lease.connection)
        }
        guard case .answered = self.phase else { return }
        self.phase = .finished
        self.delegate?.exchangeAnswerEnded()
    }

    func icapExchangeFailed(_ error: ICAPClientError) {
        let reused = self.lease?.reused ?? false
        self.lease = nil
        self.failed(error, onReusedConnection: reused)
    }

    func icapWritabilityChanged(isWritable: Bool) {
        if isWritable { self.delegate?.exchangeWantsInput() }
    }

    var icapMayRead: Bool { self.delegate?.exchangeMayDeliver ?? true }
}

@available(*, unavailable)
extension ICAPBodyExchange: Sendable {}

/// The input an ICAP exchange keeps while the message may still have to go on unmodified: the
/// preview, and what arrived while the service's word on it was awaited.
struct KeptInput {
    private(set) var buffers: [ByteBuffer] = []
    private(set) var byteCount = 0

    mutating func keep(_ buffer: ByteBuffer) {
        self.buffers.append(buffer)
        self.byteCount += buffer.readableBytes
    }

    /// The first `count` bytes, as slices of what is kept.
    func prefix(_ count: Int) -> [ByteBuffer] {
        var remaining = count
        var slices: [ByteBuffer] = []
        for buffer in self.buffers where remaining > 0 {
            let slice = buffer.getSlice(at: buffer.readerIndex, length: min(remaining, buffer.readableBytes))!
            slices.append(slice)
            remaining -= slice.readableBytes
        }
        return slices
    }

    /// What follows the first `count` bytes.
    func dropping(_ count: Int) -> [ByteBuffer] {
        var skip = count
        var rest: [ByteBuffer] = []
        for var buffer in self.buffers {
            let skipped = min(skip, buffer.readableBytes)
            skip -= skipped
            buffer.moveReaderIndex(forwardBy: skipped)
            if buffer.readableBytes > 0 { rest.append(buffer) }
        }
        return rest
    }

    mutating func takeAll() -> [ByteBuffer] {
        let all = self.buffers
        self = KeptInput()
        return all
    }
}
