import NIOCore

/// An exchange whose request is in hand whole (small: a head, a gathered body) and whose
/// answer is gathered whole: the receiver behind `ICAPClientHandler.run`.
final class GatheringExchange: ICAPExchangeReceiver {
    private let request: ICAPClientRequest
    private let maxBodyBytes: Int
    private var completion: ICAPClientHandler.Completion?
    /// Held for the exchange only (the handler holds this receiver until the answer ends).
    private var handler: ICAPClientHandler?
    /// The body after the preview, sent after `100 Continue`.
    private var rest: ByteBuffer?
    private var head: (ICAPResponseHead, ICAPEncapsulatedHeads)?
    private var body = ByteBuffer()

    init(request: ICAPClientRequest, maxBodyBytes: Int, completion: @escaping ICAPClientHandler.Completion) {
        self.request = request
        self.maxBodyBytes = maxBodyBytes
        self.completion = completion
    }

    func start(on handler: ICAPClientHandler) {
        self.handler = handler
        handler.begin(self.request.head, self.request.heads, receiver: self)
        guard self.request.heads.hasBody, self.completion != nil else { return }
        var body = self.request.body ?? ByteBuffer()
        guard let preview = self.request.head.preview else {
            if body.readableBytes > 0 { handler.writeBody(body) }
            handler.end()
            return
        }
        let first = body.readSlice(length: min(preview, body.readableBytes)) ?? ByteBuffer()
        if first.readableBytes > 0 { handler.writeBody(first) }
        let ieof = body.readableBytes == 0
        if !ieof { self.rest = body }
        handler.endPreview(ieof: ieof)
    }

    func icapContinue() {
        if let rest = self.rest, rest.readableBytes > 0 { self.handler?.writeBody(rest) }
        self.rest = nil
        self.handler?.end()
    }

    func icapResponseHead(_ head: ICAPResponseHead, _ heads: ICAPEncapsulatedHeads) {
        self.head = (head, heads)
    }

    func icapResponseBody(_ buffer: ByteBuffer) {
        guard self.body.readableBytes + buffer.readableBytes <= self.maxBodyBytes else {
            self.handler?.abandon()
            self.finish(.failure(.malformed("an answer body over \(self.maxBodyBytes) bytes")))
            return
        }
        var buffer = buffer
        self.body.writeBuffer(&buffer)
    }

    func icapExchangeEnded() {
        guard let (head, heads) = self.head else { return }
        self.finish(.success(ICAPClientResponse(head: head, heads: heads, body: self.body)))
    }

    func icapExchangeFailed(_ error: ICAPClientError) { self.finish(.failure(error)) }

    func icapWritabilityChanged(isWritable: Bool) {}

    var icapMayRead: Bool { true }

    private func finish(_ result: Result<ICAPClientResponse, ICAPClientError>) {
        let completion = self.completion
        self.completion = nil
        self.handler = nil
        completion?(result)
    }
}

@available(*, unavailable)
extension GatheringExchange: Sendable {}
