import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// The exchange state machine driven without any channel: events in, actions out.
struct ExchangeStateMachineTests {
    private let plan = ForwardPlan.fixture(method: .POST, framing: .contentLength(6))

    private func machine(maxBody: Int64 = 0) -> ExchangeStateMachine {
        ExchangeStateMachine(maxRequestBodyBytes: maxBody, viaName: "portcullis")
    }

    private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func okHead(_ fields: String = "Content-Length: 2\r\n") -> OriginResponseHead {
        originHead("HTTP/1.1 200 OK\r\n" + fields + "\r\n")
    }

    @Test func bodyArrivingBeforeTheOriginConnectsIsSentWithTheHead() {
        var machine = self.machine()
        guard case .connectOrigin = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true) else {
            Issue.record("expected connectOrigin")
            return
        }
        guard case .none = machine.requestBody(self.buffer("abc")) else { Issue.record("body should wait"); return }
        guard case .none = machine.requestBody(self.buffer("def")) else { Issue.record("body should wait"); return }
        guard case .none = machine.requestEnd() else { Issue.record("end should wait"); return }
        guard case .sendRequest(let sent, let body, let end) = machine.originConnected() else {
            Issue.record("expected sendRequest"); return
        }
        #expect(sent === self.plan)
        #expect(body.map { String(buffer: $0) } == ["abc", "def"])
        #expect(end)
    }

    @Test func aResponseWithoutABodyWritesNoneWhateverArrives() {
        var machine = self.machine()
        let head = ForwardPlan.fixture(method: .HEAD)
        _ = machine.requestHead(.forward(head), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        guard case .writeResponseHead = machine.responseHead(self.okHead("Content-Length: 1234\r\n")) else {
            Issue.record("expected the head"); return
        }
        // What a RESPMOD service might send along with an adapted answer to a HEAD.
        guard case .none = machine.responseBody(self.buffer("stray")) else {
            Issue.record("a body was written for HEAD"); return
        }
    }

    @Test func bodyAfterConnectionStreamsAndTheExchangeEndsIdle() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        guard case .sendRequest(_, let body, let end) = machine.originConnected() else {
            Issue.record("expected sendRequest"); return
        }
        #expect(body.isEmpty && !end)
        guard case .sendBody(let chunk) = machine.requestBody(self.buffer("abcdef")) else {
            Issue.record("expected sendBody"); return
        }
        #expect(String(buffer: chunk) == "abcdef")
        guard case .sendEnd = machine.requestEnd() else { Issue.record("expected sendEnd"); return }
        guard case .writeResponseHead(let response) = machine.responseHead(self.okHead()) else {
            Issue.record("expected head"); return
        }
        #expect(!response.addsChunked && response.connection == nil && response.via == "1.1 portcullis")
        #expect(response.clientFraming == .contentLength(2))
        guard case .writeResponseBody = machine.responseBody(self.buffer("ok")) else {
            Issue.record("expected body"); return
        }
        guard case .finishResponse(let reuse, let keep) = machine.responseEnd() else {
            Issue.record("expected finish"); return
        }
        #expect(reuse && keep)
        #expect(machine.isIdle)
    }

    @Test func anEarlyResponseClosesTheClientAndDropsTheOrigin() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = machine.originConnected()
        _ = machine.responseHead(self.okHead())
        guard case .finishResponse(let reuse, let keep) = machine.responseEnd() else {
            Issue.record("expected finish"); return
        }
        #expect(!reuse && !keep)
    }

    @Test func informationalResponsesPassBeforeTheFinalHead() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = machine.originConnected()
        guard case .writeInformational(let head) = machine.responseHead(originHead("HTTP/1.1 100 Continue\r\n\r\n"))
        else {
            Issue.record("expected 100 to pass"); return
        }
        #expect(head.head.status == 100)
        guard case .writeResponseHead = machine.responseHead(self.okHead()) else {
            Issue.record("expected final head"); return
        }
    }

    @Test func originFailureBeforeTheHeadIsAPageAndAfterItAClose() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        guard case .respondLocally(let page, _, _, let close) = machine.originEnded(error: OriginTimeoutError()) else {
            Issue.record("expected a 504 page"); return
        }
        #expect(page == .originTimeout)
        #expect(!close)

        var streaming = self.machine()
        _ = streaming.requestHead(.forward(self.plan), unreadBytesMayFollow: false)
        _ = streaming.requestEnd()
        _ = streaming.originConnected()
        _ = streaming.responseHead(self.okHead("Content-Length: 100\r\n"))
        guard case .abort(let closeOrigin) = streaming.originEnded(error: nil) else {
            Issue.record("expected abort"); return
        }
        #expect(closeOrigin)
    }

    @Test func readUntilCloseEndsCleanlyOnClose() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        _ = machine.responseHead(self.okHead(""))
        guard case .finishResponse(let reuse, let keep) = machine.originEnded(error: nil) else {
            Issue.record("expected finish"); return
        }
        #expect(!reuse)
        #expect(keep)
    }

    @Test func connectFailureAnswersWithTheMatchingPage() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        let failure = OriginConnectError(kind: .nameNotResolved, detail: "no such host")
        guard case .respondLocally(let page, let reason, let url, let close) = machine.originConnectFailed(failure)
        else {
            Issue.record("expected a page"); return
        }
        #expect(page == .nameNotResolved)
        #expect(reason == "no such host")
        #expect(url == "http://e.com/")
        #expect(!close)
        guard case .localExchangeComplete = machine.localResponseWritten() else {
            Issue.record("expected completion"); return
        }
        #expect(machine.isIdle)
    }

    @Test func aLocalAnswerWrittenBeforeTheRequestEndsWaitsForTheEnd() {
        var machine = self.machine()
        _ = machine.requestHead(.reject(.notImplemented, reason: "r", url: "u"), unreadBytesMayFollow: false)
        guard case .none = machine.localResponseWritten() else { Issue.record("must wait for the end"); return }
        #expect(!machine.isIdle)
        guard case .localExchangeComplete = machine.requestEnd() else { Issue.record("expected completion"); return }
        #expect(machine.isIdle)
    }

    @Test func aRefusalWithABodyStillOnTheWireClosesTheConnection() {
        var machine = self.machine()
        guard
            case .respondLocally(_, _, _, let close) = machine.requestHead(
                .reject(.clientDenied, reason: "r", url: "u"), unreadBytesMayFollow: true)
        else { Issue.record("expected a page"); return }
        #expect(close)
    }

    @Test func bodyOverTheLimitGets413BeforeTheResponseStarts() {
        var machine = self.machine(maxBody: 4)
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = machine.originConnected()
        guard case .respondLocally(let page, _, _, let close) = machine.requestBody(self.buffer("12345")) else {
            Issue.record("expected 413"); return
        }
        #expect(page == .payloadTooLarge)
        #expect(close)
    }

    @Test func bodyOverTheLimitWhileConnectingGets413ForThePlannedURL() {
        var machine = self.machine(maxBody: 4)
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = machine.requestBody(self.buffer("123"))
        guard case .respondLocally(let page, _, let url, let close) = machine.requestBody(self.buffer("45")) else {
            Issue.record("expected 413"); return
        }
        #expect(page == .payloadTooLarge)
        #expect(url == self.plan.target.absoluteURL)
        #expect(close)
        // The exchange let go of its plan; the origin connecting meanwhile gets nothing to send.
        #expect(machine.planInFlight == nil)
        guard case .none = machine.originConnected() else { Issue.record("nothing should be sent"); return }
    }

    @Test func bodyOverTheLimitAfterTheResponseStartedCloses() {
        var machine = self.machine(maxBody: 4)
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = machine.originConnected()
        _ = machine.requestBody(self.buffer("12"))
        _ = machine.responseHead(self.okHead())
        guard case .abort(let closeOrigin) = machine.requestBody(self.buffer("345")) else {
            Issue.record("expected an abort"); return
        }
        #expect(closeOrigin)
        #expect(machine.state == .closed)
    }

    @Test func aFinishedExchangeKeepsNoPlan() {
        var machine = self.machine()
        let get = ForwardPlan.fixture(method: .GET)
        _ = machine.requestHead(.forward(get), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        _ = machine.responseHead(self.okHead())
        #expect(machine.planInFlight === get)
        #expect(machine.responsePlan != nil)
        guard case .finishResponse(let reuseOrigin, let keepClient) = machine.responseEnd() else {
            Issue.record("expected finishResponse"); return
        }
        #expect(reuseOrigin && keepClient)
        #expect(machine.state == .idle)
        #expect(machine.planInFlight == nil && machine.responsePlan == nil)
    }

    @Test func aStalePooledConnectionIsRetriedOnlyForBodilessRequests() {
        let getPlan = ForwardPlan.fixture(method: .GET)
        var machine = self.machine()
        _ = machine.requestHead(.forward(getPlan), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        guard case .connectOrigin = machine.retryOnFreshConnection() else { Issue.record("expected a retry"); return }

        guard case .connectOrigin(_, let fresh) = ExchangeStateMachine.retried(getPlan) else {
            Issue.record("no retry"); return
        }
        #expect(fresh)

        let bodilessPost = ForwardPlan.fixture(method: .POST)
        guard case .none = ExchangeStateMachine.retried(bodilessPost) else {
            Issue.record("a POST must not be retried, even without a body")
            return
        }

        var post = self.machine()
        _ = post.requestHead(.forward(self.plan), unreadBytesMayFollow: true)
        _ = post.originConnected()
        _ = post.requestEnd()
        guard case .none = post.retryOnFreshConnection() else { Issue.record("a POST must not be retried"); return }
    }

    @Test func theClientGoingAwayAbandonsTheOrigin() {
        var machine = self.machine()
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false)
        guard case .abort(let closeOrigin) = machine.clientClosed() else { Issue.record("expected abort"); return }
        #expect(closeOrigin)
    }
}

extension ExchangeStateMachine {
    /// A machine that sent `plan` on a reused connection which then closed unanswered.
    fileprivate static func retried(_ plan: ForwardPlan) -> Action {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        _ = machine.requestHead(.forward(plan), unreadBytesMayFollow: false)
        _ = machine.requestEnd()
        _ = machine.originConnected()
        return machine.retryOnFreshConnection()
    }
}

/// The wait for the remote REQMOD services.
struct ExchangeStateMachineAdaptationTests {
    private let plan = ForwardPlan.fixture(method: .GET, framing: .none)

    @Test func theOriginIsConnectedOnlyAfterTheServicesAnswer() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        guard case .adaptRequest = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false, adapt: true)
        else { Issue.record("expected adaptRequest"); return }
        guard case .none = machine.requestEnd() else { Issue.record("the end should wait"); return }
        guard case .connectOrigin(let planned, false) = machine.adaptationFinished(nil, unreadBytesMayFollow: false)
        else { Issue.record("expected connectOrigin"); return }
        #expect(planned === self.plan)
        guard case .sendRequest(_, _, let end) = machine.originConnected() else {
            Issue.record("expected sendRequest"); return
        }
        #expect(end)
    }

    @Test func aRefusalAfterTheServicesIsAnsweredAndTheConnectionKept() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false, adapt: true)
        _ = machine.requestEnd()
        guard
            case .respondLocally(let page, _, _, false) = machine.adaptationFinished(
                .reject(.serviceUnavailable, reason: "down", url: "http://e/"), unreadBytesMayFollow: false)
        else { Issue.record("expected a local page"); return }
        #expect(page == .serviceUnavailable)
        guard case .localExchangeComplete = machine.localResponseWritten() else {
            Issue.record("expected the exchange to end"); return
        }
    }

    @Test func aClientGoneWhileWaitingDropsTheAnswer() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: false, adapt: true)
        guard case .none = machine.clientClosed() else { Issue.record("nothing to abort"); return }
        guard case .none = machine.adaptationFinished(nil, unreadBytesMayFollow: false) else {
            Issue.record("a late answer must do nothing"); return
        }
    }

    @Test func aSatisfiedCONNECTIsAnsweredThenClosed() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        let target = RequestTarget(scheme: "https", host: "e.com", port: 443, originForm: "")
        _ = machine.requestHead(.tunnel(target), unreadBytesMayFollow: true, adapt: true)
        let head = HTTPResponseHead(version: .http1_1, status: .forbidden)
        guard
            case .answer(_, _, true) = machine.adaptationFinished(
                .answer(head, body: ByteBuffer()), unreadBytesMayFollow: true)
        else { Issue.record("expected an answer then close"); return }
    }
}

/// A body streaming through the REQMOD services: the machine sees it only once they are done
/// with the head, as it comes out of them.
struct ExchangeStateMachineBodyAdaptationTests {
    private let plan = ForwardPlan.fixture(method: .POST, framing: .contentLength(6))

    @Test func theBodyComesFromTheServicesAfterTheirWordOnTheHead() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        guard case .adaptRequest = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true, adapt: true)
        else { Issue.record("expected adaptRequest"); return }
        guard case .connectOrigin = machine.adaptationFinished(nil, body: [], unreadBytesMayFollow: false) else {
            Issue.record("expected connectOrigin"); return
        }
        guard case .none = machine.requestBody(ByteBuffer(string: "abc")) else { Issue.record("wait"); return }
        guard case .sendRequest(_, let sent, false) = machine.originConnected() else {
            Issue.record("expected sendRequest, the end still to come"); return
        }
        #expect(sent.map { String(buffer: $0) } == ["abc"])
        guard case .sendBody = machine.requestBody(ByteBuffer(string: "def")) else { Issue.record("sendBody"); return }
        guard case .sendEnd = machine.requestEnd() else { Issue.record("expected sendEnd"); return }
    }

    @Test func aBodilessRequestAdaptedWholeRemembersItsEnd() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        let get = ForwardPlan.fixture(method: .GET, framing: .none)
        _ = machine.requestHead(.forward(get), unreadBytesMayFollow: false, adapt: true)
        guard case .none = machine.requestEnd() else { Issue.record("wait for the services"); return }
        _ = machine.adaptationFinished(nil, unreadBytesMayFollow: false)
        guard case .sendRequest(_, _, true) = machine.originConnected() else {
            Issue.record("expected the whole request"); return
        }
    }

    @Test func aServiceFailingBeforeTheResponseIs503AfterItIsAClose() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true, adapt: true)
        guard
            case .respondLocally(let page, _, _, true) = machine.requestAdaptationFailed(
                reason: "down", unreadBytesMayFollow: true)
        else { Issue.record("expected a 503 and close"); return }
        #expect(page == .serviceUnavailable)

        var sending = ExchangeStateMachine(maxRequestBodyBytes: 0, viaName: "portcullis")
        _ = sending.requestHead(.forward(self.plan), unreadBytesMayFollow: true, adapt: true)
        _ = sending.adaptationFinished(nil, body: [], unreadBytesMayFollow: false)
        _ = sending.originConnected()
        guard
            case .respondLocally(.serviceUnavailable, _, _, true) = sending.requestAdaptationFailed(
                reason: "died", unreadBytesMayFollow: true)
        else { Issue.record("expected a 503 while no response came"); return }
    }

    @Test func tooLargeFromTheServicesIs413() {
        var machine = ExchangeStateMachine(maxRequestBodyBytes: 4, viaName: "portcullis")
        _ = machine.requestHead(.forward(self.plan), unreadBytesMayFollow: true, adapt: true)
        _ = machine.adaptationFinished(nil, body: [], unreadBytesMayFollow: false)
        guard case .respondLocally(let page, _, _, true) = machine.requestBody(ByteBuffer(string: "abcdef")) else {
            Issue.record("expected 413"); return
        }
        #expect(page == .payloadTooLarge)
    }
}
