import Testing

@testable import ICAP

/// The client's view of one exchange, with no channel.
struct ICAPClientExchangeStateMachineTests {
    @Test func bodilessRequestIsAnsweredWith204() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.requestEnded()
        #expect(machine.request == .complete)
        #expect(machine.awaitsService)
        #expect(machine.responseHead(statusCode: 204) == .deliverHead)
        #expect(machine.responseEnd() == .deliverEnd(reusable: true))
        #expect(machine.isFinished)
    }

    @Test func previewThen100ContinueThenFinal() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        #expect(machine.acceptsBody)
        machine.previewEnded(ieof: false)
        #expect(machine.request == .previewSent)
        #expect(!machine.acceptsBody)
        #expect(machine.awaitsService)
        #expect(machine.responseHead(statusCode: 100) == .sendRest)
        #expect(machine.responseEnd() == .none)
        #expect(machine.request == .continuing)
        #expect(machine.acceptsBody)
        // Streaming the rest: the service is not waited on until the end is written.
        #expect(!machine.awaitsService)
        machine.requestEnded()
        #expect(machine.responseHead(statusCode: 200) == .deliverHead)
        #expect(machine.responseBody() == .deliverBody)
        #expect(machine.responseEnd() == .deliverEnd(reusable: true))
    }

    @Test func previewAnsweredEarlyWithAFinalAnswerEndsTheRequest() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.previewEnded(ieof: false)
        #expect(machine.responseHead(statusCode: 204) == .deliverHead)
        #expect(machine.request == .complete)
        #expect(!machine.acceptsBody)
        #expect(machine.responseEnd() == .deliverEnd(reusable: true))
    }

    @Test func answerWhileTheBodyStillStreamsLeavesTheConnectionUnusable() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.previewEnded(ieof: false)
        _ = machine.responseHead(statusCode: 100)
        _ = machine.responseEnd()
        // The service answers (echoing as it reads) before the request's end is written.
        #expect(machine.responseHead(statusCode: 200) == .deliverHead)
        #expect(machine.acceptsBody)
        #expect(machine.responseBody() == .deliverBody)
        #expect(machine.responseEnd() == .deliverEnd(reusable: false))
    }

    @Test func continueWithoutAPreviewIsMalformed() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.requestEnded()
        guard case .fail = machine.responseHead(statusCode: 100) else {
            Issue.record("a 100 to a whole request was accepted")
            return
        }
        #expect(machine.isFinished)
    }

    @Test func outOfOrderPartsAreMalformed() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.requestEnded()
        guard case .fail = machine.responseBody() else {
            Issue.record("a body before any head was accepted")
            return
        }
        var other = ICAPClientExchangeStateMachine()
        other.begin()
        other.requestEnded()
        guard case .fail = other.responseEnd() else {
            Issue.record("an end before any head was accepted")
            return
        }
        var third = ICAPClientExchangeStateMachine()
        third.begin()
        third.requestEnded()
        guard case .fail = third.responseHead(statusCode: 101) else {
            Issue.record("a 101 was accepted")
            return
        }
    }

    @Test func timeoutAndCloseFailOnceThenNothing() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.requestEnded()
        #expect(machine.readTimedOut() == .fail(.timeout))
        #expect(machine.closed() == .none)

        var other = ICAPClientExchangeStateMachine()
        other.begin()
        other.requestEnded()
        #expect(other.responseHead(statusCode: 200) == .deliverHead)
        #expect(other.closed() == .fail(.closed))
    }

    @Test func closeAfterTheAnswerIsNoFailure() {
        var machine = ICAPClientExchangeStateMachine()
        machine.begin()
        machine.requestEnded()
        _ = machine.responseHead(statusCode: 204)
        #expect(machine.responseEnd() == .deliverEnd(reusable: true))
        #expect(machine.closed() == .none)
    }
}
