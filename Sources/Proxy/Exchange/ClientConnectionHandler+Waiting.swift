import NIOCore

// The client's idle and header timeouts, between exchanges (see `ClientWait`).
extension ClientConnectionHandler {
    /// No exchange runs now (since `now`, if the caller has read the clock): the next request
    /// is awaited, or the rest of a head that began.
    func awaitRequest(now: NIODeadline? = nil) {
        guard self.context != nil else { return }
        self.scheduleWaitCheck(self.wait.awaitRequest(now: now ?? self.loopNow, headBegun: self.headBegun))
    }

    /// After a read: a head that began in it but did not end starts the header timeout.
    func noteHeadBegunIfAny() {
        guard self.wait.waiting == .nextRequest, self.headBegun, let context = self.context else { return }
        self.scheduleWaitCheck(self.wait.headBegan(now: context.eventLoop.now))
    }

    /// Part of the next head is here (the parser drops empty lines before a head, so these are
    /// a head's first bytes).
    private var headBegun: Bool {
        self.requestParser.isReadingHead && self.unparsedClientBytes.count > 0
    }

    func scheduleWaitCheck(_ deadline: NIODeadline?) {
        guard let deadline, let context = self.context else { return }
        self.waitCheck?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.waitCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.runWaitCheck()
        }
    }

    func cancelWaitCheck() {
        self.waitCheck?.cancel()
        self.waitCheck = nil
    }

    private func runWaitCheck() {
        self.waitCheck = nil
        guard let context = self.context else { return }
        switch self.wait.checkRan(now: context.eventLoop.now) {
        case .nothing:
            break
        case .checkAgain(let deadline):
            self.scheduleWaitCheck(deadline)
        case .closeIdleConnection:
            context.close(promise: nil)
        case .headTimedOut:
            // Whatever else of the head comes is not read: the connection closes after the page.
            self.requestParser.abandon()
            _ = self.unparsedClientBytes.take()
            self.machine.requestFailed()
            self.record = ExchangeRecord(
                method: "NONE", url: "error:request-timeout", client: self.clientIP, start: context.eventLoop.now)
            self.writeLocalPage(
                .requestTimeout, reason: "the request head did not arrive in time", url: "", closeAfter: true)
        }
    }
}
