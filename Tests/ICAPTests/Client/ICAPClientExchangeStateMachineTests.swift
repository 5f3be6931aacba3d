import Testing

@testable import ICAP

/// The client's view of one exchange, with no channel.
struct ICAPClientExchangeStateMachineTests {
    @Test func bodilessRequestIsAnsweredWith204() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: false)
        #expect(machine.state == .awaitingResponse)
        #expect(machine.responseHead(statusCode: 204) == .none)
        #expect(machine.responseEnd() == .deliver)
        #expect(machine.state == .done)
    }

    @Test func previewThen100ContinueThenFinal() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: true)
        #expect(machine.state == .previewSent)
        #expect(machine.responseHead(statusCode: 100) == .sendRest)
        #expect(machine.responseEnd() == .none)
        #expect(machine.state == .continued)
        #expect(machine.responseHead(statusCode: 200) == .none)
        #expect(machine.state == .receiving(statusCode: 200))
        #expect(machine.responseEnd() == .deliver)
    }

    @Test func previewAnsweredEarlyWithAFinalAnswer() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: true)
        #expect(machine.responseHead(statusCode: 204) == .none)
        #expect(machine.responseEnd() == .deliver)
    }

    @Test func continueWithoutAPreviewIsMalformed() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: false)
        guard case .fail = machine.responseHead(statusCode: 100) else {
            Issue.record("a 100 to a whole request was accepted")
            return
        }
        #expect(machine.state == .failed)
    }

    @Test func timeoutAndCloseFailOnceThenNothing() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: false)
        #expect(machine.readTimedOut() == .fail(.timeout))
        #expect(machine.closed() == .none)

        var other = ICAPClientExchangeStateMachine()
        other.requestWritten(previewOnly: false)
        #expect(other.responseHead(statusCode: 200) == .none)
        #expect(other.closed() == .fail(.closed))
    }

    @Test func closeAfterTheAnswerIsNoFailure() {
        var machine = ICAPClientExchangeStateMachine()
        machine.requestWritten(previewOnly: false)
        _ = machine.responseHead(statusCode: 204)
        #expect(machine.responseEnd() == .deliver)
        #expect(machine.closed() == .none)
    }
}
