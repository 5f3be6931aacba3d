import NIOCore
import NIOHTTP1
import Testing

@testable import ICAP

/// When the server answers, what it echoes and what it drops, without a channel.
struct ICAPServerStateMachineTests {
    private let ok = ICAPResponseHead(status: .ok)
    private let noContent = ICAPResponseHead(status: .noContent)

    private func echoHeads() throws -> ICAPEncapsulatedHeads {
        try ICAPEncapsulatedHeads(
            request: HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://a.example/"),
            body: .requestBody)
    }

    private func parts(_ action: ICAPServerStateMachine.Action) -> [ICAPResponsePart] {
        if case .write(let parts) = action { return parts }
        return []
    }

    @Test func aFinalAnswerWaitsForTheRequestBodyThenDropsIt() {
        var machine = ICAPServerStateMachine()
        #expect(self.parts(machine.head(answer: .final(self.noContent, .none, body: nil), hasPreview: false)).isEmpty)
        #expect(self.parts(machine.body(ByteBuffer(string: "dropped"))).isEmpty)
        #expect(self.parts(machine.end()) == [.head(self.noContent, .none), .end])
        #expect(machine.isIdle)
    }

    @Test func aFinalAnswerEndsAPreviewWithoutAskingForMore() {
        var machine = ICAPServerStateMachine()
        _ = machine.head(answer: .final(self.noContent, .none, body: nil), hasPreview: true)
        _ = machine.body(ByteBuffer(string: "preview"))
        #expect(self.parts(machine.previewEnd(ieof: false)) == [.head(self.noContent, .none), .end])
        #expect(machine.isIdle, "the request ends at the preview")
        #expect(self.parts(machine.end()).isEmpty, "a stray end changes nothing")
    }

    @Test func aPreviewEndingTheBodyIsAnsweredAtTheEnd() {
        var machine = ICAPServerStateMachine()
        _ = machine.head(answer: .final(self.noContent, .none, body: nil), hasPreview: true)
        #expect(self.parts(machine.previewEnd(ieof: true)).isEmpty)
        #expect(self.parts(machine.end()) == [.head(self.noContent, .none), .end])
    }

    @Test func anEchoStreamsTheBodyBackAsItComes() throws {
        var machine = ICAPServerStateMachine()
        let heads = try self.echoHeads()
        #expect(self.parts(machine.head(answer: .echo(self.ok, heads), hasPreview: false)) == [.head(self.ok, heads)])
        #expect(self.parts(machine.body(ByteBuffer(string: "abc"))) == [.body(ByteBuffer(string: "abc"))])
        #expect(self.parts(machine.end()) == [.end])
    }

    @Test func anEchoAfterAPreviewAsksForTheRestAndSendsThePreviewFirst() throws {
        var machine = ICAPServerStateMachine()
        let heads = try self.echoHeads()
        _ = machine.head(answer: .echo(self.ok, heads), hasPreview: true)
        _ = machine.body(ByteBuffer(string: "pre"))
        #expect(
            self.parts(machine.previewEnd(ieof: false)) == [
                .head(ICAPResponseHead(status: .continue), .none), .end, .head(self.ok, heads),
                .body(ByteBuffer(string: "pre")),
            ])
        #expect(self.parts(machine.body(ByteBuffer(string: "rest"))) == [.body(ByteBuffer(string: "rest"))])
        #expect(self.parts(machine.end()) == [.end])
    }

    @Test func anEchoOfAWholePreviewNeedsNoContinue() throws {
        var machine = ICAPServerStateMachine()
        let heads = try self.echoHeads()
        _ = machine.head(answer: .echo(self.ok, heads), hasPreview: true)
        _ = machine.body(ByteBuffer(string: "all"))
        #expect(self.parts(machine.previewEnd(ieof: true)).isEmpty)
        #expect(self.parts(machine.end()) == [.head(self.ok, heads), .body(ByteBuffer(string: "all")), .end])
    }

    @Test func servicesAreNamedByTheirPath() {
        #expect(ICAPServerService(uri: "icap://127.0.0.1:1344/reqmod") == .reqmod)
        #expect(ICAPServerService(uri: "icap://[::1]:1344/RESPMOD/?x=1") == .respmod)
        #expect(ICAPServerService(uri: "/reqmod") == .reqmod)
        #expect(ICAPServerService(uri: "icap://127.0.0.1:1344/echo") == nil)
        #expect(ICAPServerService(uri: "icap://127.0.0.1:1344") == nil)
    }
}
