import ICAP
import NIOCore

// The remote RESPMOD services: an origin's response streamed through `RESPMODStage`s (this
// handler is the last one's `ResponseStreamSink`).
extension ClientConnectionHandler: ResponseStreamSink {
    /// Sends the origin's response through the RESPMOD services, if any are configured and it
    /// is a response they can see (not a 101 switch, and only to a forwarded request).
    func startResponseAdaptation(_ head: OriginResponseHead) -> Bool {
        guard let services = self.icapServices, !services.responseClients.isEmpty, head.status != 101,
            case .forwarding(_, responseStarted: false) = self.machine.state, let plan = self.machine.planInFlight
        else { return false }
        let requestWasHEAD = plan.method.isHEAD
        self.originResponseFraming = head.fields.responseFraming(status: head.status, requestWasHEAD: requestWasHEAD)
        self.originResponseReusable =
            head.fields.wantsKeepAlive(minorVersion: head.minorVersion) && self.originResponseFraming != .untilClose
        var downstream: any ResponseStreamSink = self
        var stages: [RESPMODStage] = []
        for client in services.responseClients.reversed() {
            let stage = RESPMODStage(
                client: client, downstream: downstream, request: plan.clientHead, requestWasHEAD: requestWasHEAD,
                clientIP: self.clientIP)
            stages.insert(stage, at: 0)
            downstream = stage
        }
        for (index, stage) in stages.enumerated() {
            if index == 0 {
                stage.resumeUpstream = { [weak self] in self?.origin?.handler.resumeReading() }
                stage.dropUpstream = { [weak self] in self?.abandonOrigin() }
            } else {
                let previous = stages[index - 1]
                stage.resumeUpstream = { [weak previous] in previous?.resume() }
                stage.dropUpstream = { [weak previous] in previous?.outputNotNeeded() }
            }
        }
        self.responseStages = stages
        stages[0].streamHead(head)
        return true
    }

    /// The origin's own response is read in full while the services still work on it: the
    /// origin connection goes back to the pool (or closes) now.
    func releaseOriginAfterItsResponse() {
        guard let origin = self.origin else { return }
        self.origin = nil
        origin.handler.detach()
        var requestComplete = false
        if case .forwarding(let complete, _) = self.machine.state { requestComplete = complete }
        if self.originResponseReusable && requestComplete {
            self.pool.release(origin.channel, handler: origin.handler, key: origin.key)
        } else {
            origin.channel.close(promise: nil)
        }
    }

    func streamHead(_ head: OriginResponseHead) {
        self.perform(self.machine.responseHead(head))
        self.flushClientNow()
    }

    func streamBody(_ buffer: ByteBuffer) {
        self.perform(self.machine.responseBody(buffer))
        self.flushClientNow()
    }

    func streamEnd() {
        self.perform(self.machine.responseEnd())
    }

    func streamFailed(_ reason: String) {
        self.logger.debug("ICAP RESPMOD failed", metadata: ["reason": "\(reason)"])
        self.perform(self.machine.responseAdaptationFailed(reason: reason))
    }

    var mayTakeResponseBody: Bool { self.context?.channel.isWritable ?? false }

    /// What an ICAP service sent arrives outside the origin's and the client's read bursts:
    /// nothing else would flush it.
    func flushClientNow() {
        guard self.clientNeedsFlush, let context = self.context else { return }
        self.clientNeedsFlush = false
        context.flush()
    }
}
