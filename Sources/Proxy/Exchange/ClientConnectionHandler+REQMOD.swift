import Foundation
import ICAP
import Logging
import NIOCore
import NIOHTTP1
import Policy

// The remote REQMOD services: a bodiless request or CONNECT asked about whole, a body streamed
// through `REQMODStage`s (this handler is the last one's `RequestStreamSink`).
extension ClientConnectionHandler {
    enum Adaptation {
        case skip
        /// Ask the services about the head, whole: a bodiless request, or a CONNECT.
        case now
        /// Stream the request's body through the services (`REQMODStage`s).
        case streamed
    }

    /// Whether and how the REQMOD services see this request: an allowed request without a
    /// body, and a CONNECT, whole and at once; one with a body streams through them.
    func adaptation(for disposition: RequestDisposition) -> Adaptation {
        guard let services = self.icapServices, !services.clients.isEmpty else { return .skip }
        switch disposition {
        case .tunnel:
            return .now
        case .forward(let plan):
            guard plan.upgrade == nil else { return .skip }
            switch plan.requestFraming {
            case .none, .contentLength(0): return .now
            default: return .streamed
            }
        case .reject, .answer:
            return .skip
        }
    }

    func adaptRequest() {
        guard let services = self.icapServices, let head = self.adaptingHead else { return }
        if !self.clientBodyEnded {
            self.startRequestStages(head, services: services)
            return
        }
        services.adaptRequest(head, body: nil, clientIP: self.clientIP) { outcome, notes in
            self.adaptationDone(outcome, notes: notes, original: head)
        }
    }

    func adaptationDone(_ outcome: REQMODChain.Outcome, notes: [String], original: HTTPRequestHead) {
        self.adaptingHead = nil
        self.addICAPNotes(notes)
        let isConnect = original.method.isCONNECT
        var replacement: RequestDisposition?
        var newBody: [ByteBuffer]?
        switch outcome {
        case .forward(_, _, modified: false):
            replacement = nil
        case .forward(var head, let body, modified: true):
            if let body {
                // The service's body is sent whole: its length is what it is now.
                head.headers.remove(name: "Transfer-Encoding")
                head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
                newBody = body.readableBytes > 0 ? [body] : []
            }
            replacement = self.replan(head, original: original)
        case .respond(let head, let body):
            replacement = .answer(
                Self.satisfactionHead(
                    head, contentLength: body.readableBytes, via: "1.1 \(self.environment.configuration.viaName)",
                    close: isConnect),
                body: body)
        case .fail(let error, let service):
            replacement = .reject(
                .serviceUnavailable, reason: "ICAP service \(service): \(error)", url: original.uri)
        }
        self.perform(self.machine.adaptationFinished(replacement, body: newBody, unreadBytesMayFollow: isConnect))
    }

    /// A request a service changed is planned and decided like one from the client.
    func replan(_ head: HTTPRequestHead, original: HTTPRequestHead) -> RequestDisposition {
        guard head.method.isCONNECT == original.method.isCONNECT else {
            return .reject(
                .serviceUnavailable, reason: "an ICAP service changed a CONNECT into another method or back",
                url: original.uri)
        }
        var disposition = self.environment.planner.plan(head, clientIP: self.clientIP)
        let decided: PolicyGate.Outcome?
        (disposition, decided) = PolicyGate.apply(
            disposition, client: self.clientAddress, snapshot: self.policy.snapshot, now: Date(),
            via: self.environment.planner.via.http11)
        if let decided { self.policyOutcome = decided }
        return disposition
    }

    /// Sends the request's body through the REQMOD services, chained.
    func startRequestStages(_ head: HTTPRequestHead, services: ICAPServices) {
        var downstream: any RequestStreamSink = self
        var stages: [REQMODStage] = []
        for client in services.clients.reversed() {
            let stage = REQMODStage(client: client, downstream: downstream, clientIP: self.clientIP)
            stages.insert(stage, at: 0)
            downstream = stage
        }
        for (index, stage) in stages.enumerated() {
            if index == 0 {
                stage.resumeUpstream = { [weak self] in self?.resumeClientReadIfPossible() }
            } else {
                let previous = stages[index - 1]
                stage.resumeUpstream = { [weak previous] in previous?.resume() }
            }
        }
        self.requestStages = stages
        self.clientBodyLastSeen = .now()
        self.scheduleClientBodyStallCheck(in: self.environment.configuration.headerTimeout)
        var head = head
        if Self.expectsContinue(head), let context = self.context {
            // The services need the body before anything reaches the origin, whose 100 Continue
            // would come too late: the client would wait its expect timeout (a second for
            // curl). The proxy says it (RFC 9110 §10.1.1 lets a proxy answer the
            // expectation), and the services see the request without it.
            self.sentContinue = true
            head.headers.remove(name: "Expect")
            context.writeAndFlush(
                ClientConnectionHandler.wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")),
                promise: nil)
        }
        stages[0].requestHead(head, modified: false, hasBody: true)
    }

    /// An HTTP/1.1 request waiting for `100 Continue` before it sends its body.
    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.version.minor >= 1 && head.version.major == 1
            && head.headers["Expect"].contains { $0.lowercased() == "100-continue" }
    }

    /// A client whose body stops while the services still wait for it (for their preview)
    /// gets a 408 once `header-timeout` passes without a byte; the connection closes.
    func scheduleClientBodyStallCheck(in delay: TimeAmount) {
        guard let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.clientBodyStallCheck = context.eventLoop.scheduleTask(in: delay) {
            let this = loopBound.value
            this.clientBodyStallCheck = nil
            guard case .adapting = this.machine.state, let first = this.requestStages.first, !this.clientBodyEnded
            else { return }
            let timeout = this.environment.configuration.headerTimeout
            let quietFor = NIODeadline.now() - this.clientBodyLastSeen
            // Only silence while the services are waiting on the client counts.
            guard first.mayTakeRequestBody, quietFor >= timeout else {
                this.scheduleClientBodyStallCheck(in: quietFor >= timeout ? timeout : timeout - quietFor)
                return
            }
            this.machine.requestFailed()
            this.endAdaptations()
            this.writeLocalPage(
                .requestTimeout, reason: "the request body stopped arriving", url: this.record.line.url,
                closeAfter: true)
        }
    }

    /// The services of the exchange are done with (or given up): their notes go to the access
    /// log and any ICAP exchange still running is abandoned.
    func endAdaptations() {
        self.clientBodyStallCheck?.cancel()
        self.clientBodyStallCheck = nil
        // (Most exchanges have no services: nothing to gather or cancel, no arrays replaced.)
        guard !self.requestStages.isEmpty || !self.responseStages.isEmpty else { return }
        let (requestStages, responseStages) = (self.requestStages, self.responseStages)
        self.requestStages = []
        self.responseStages = []
        let notes = requestStages.compactMap(\.note) + responseStages.compactMap(\.note)
        self.addICAPNotes(notes)
        for stage in requestStages { stage.cancel() }
        for stage in responseStages { stage.cancel() }
    }

    /// Adds to the access log's eleventh field (the policy's verdict, the services' notes).
    /// Adds what the ICAP services said to the access log's eleventh field, after the policy's
    /// verdict: one `icap=` list for the whole exchange, REQMOD then RESPMOD, in chain order.
    func addICAPNotes(_ notes: [String]) {
        guard !notes.isEmpty else { return }
        let joined = notes.joined(separator: ",")
        if let policy = self.record.line.policy, policy.contains("icap=") {
            self.record.line.policy = policy + "," + joined
        } else {
            self.record.line.policy = (self.record.line.policy.map { $0 + "," } ?? "") + "icap=" + joined
        }
    }

    /// The head of a response an ICAP service answered with (request satisfaction), framed
    /// by this proxy: its body is sent whole with a `Content-Length`.
    static func satisfactionHead(
        _ head: HTTPResponseHead, contentLength: Int, via: String, close: Bool
    ) -> HTTPResponseHead {
        var headers = head.headers
        for name in ["Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive", "Proxy-Connection"] {
            headers.remove(name: name)
        }
        headers.add(name: "Content-Length", value: String(contentLength))
        headers.add(name: "Via", value: via)
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
    }
}

extension ClientConnectionHandler: RequestStreamSink {
    func requestHead(_ head: HTTPRequestHead, modified: Bool, hasBody: Bool) {
        guard let original = self.adaptingHead else { return }
        self.adaptingHead = nil
        let replacement = modified ? self.replan(head, original: original) : nil
        self.perform(self.machine.adaptationFinished(replacement, body: [], unreadBytesMayFollow: false))
    }

    func requestBody(_ buffer: ByteBuffer) {
        self.perform(self.machine.requestBody(buffer))
    }

    func requestEnd() {
        self.perform(self.machine.requestEnd())
    }

    func requestSatisfied(_ head: HTTPResponseHead, body: ByteBuffer) {
        self.adaptingHead = nil
        let answer = RequestDisposition.answer(
            Self.satisfactionHead(
                head, contentLength: body.readableBytes, via: "1.1 \(self.environment.configuration.viaName)",
                close: false),
            body: body)
        self.perform(self.machine.adaptationFinished(answer, unreadBytesMayFollow: !self.clientBodyEnded))
        // The body went to the service, not through the machine: its end is noted here.
        if self.clientBodyEnded { self.perform(self.machine.requestEnd()) }
    }

    func requestFailed(_ reason: String) {
        self.adaptingHead = nil
        self.perform(self.machine.requestAdaptationFailed(reason: reason, unreadBytesMayFollow: !self.clientBodyEnded))
        if self.clientBodyEnded { self.perform(self.machine.requestEnd()) }
    }

    var mayTakeRequestBody: Bool { self.machineMayReadClient }
}
