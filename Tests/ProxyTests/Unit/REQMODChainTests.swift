import ICAP
import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// The REQMOD chain with no service at all: answers in, next steps out.
struct REQMODChainTests {
    private let get = HTTPRequestHead(
        version: .http1_1, method: .GET, uri: "http://example.com/", headers: ["Host": "example.com"])
    private let services: [REQMODChain.Service] = [.init(name: "a", bypass: true), .init(name: "b", bypass: false)]

    private func answer(
        _ status: Int, request: HTTPRequestHead? = nil, response: HTTPResponseHead? = nil
    )
        throws -> Result<ICAPClientResponse, ICAPClientError>
    {
        let heads =
            request == nil && response == nil
            ? ICAPEncapsulatedHeads.none
            : try ICAPEncapsulatedHeads(request: request, response: response, body: .nullBody)
        return .success(
            ICAPClientResponse(
                head: ICAPResponseHead(status: ICAPStatus(code: status), headers: ["ISTag": "\"t\""]), heads: heads,
                body: ByteBuffer(string: response == nil ? "" : "page")))
    }

    @Test func everyServiceIsAskedInOrderAnd204sForwardUnchanged() throws {
        var chain = REQMODChain(head: self.get, services: self.services)
        guard case .ask(0, _, _) = chain.start() else { Issue.record("expected the first service"); return }
        guard case .ask(1, _, _) = chain.answered(try self.answer(204)) else {
            Issue.record("expected the second service"); return
        }
        guard case .finished(.forward(let head, _, let modified)) = chain.answered(try self.answer(204)) else {
            Issue.record("expected forward"); return
        }
        #expect(head == self.get)
        #expect(!modified)
        #expect(chain.notes == ["a:204", "b:204"])
    }

    @Test func aModifiedRequestGoesToTheNextServiceAndOn() throws {
        var chain = REQMODChain(head: self.get, services: self.services)
        _ = chain.start()
        var changed = self.get
        changed.uri = "http://example.org/"
        guard case .ask(1, let next, _) = chain.answered(try self.answer(200, request: changed)) else {
            Issue.record("expected the second service"); return
        }
        #expect(next.uri == "http://example.org/")
        guard case .finished(.forward(let head, _, true)) = chain.answered(try self.answer(204)) else {
            Issue.record("expected a modified forward"); return
        }
        #expect(head.uri == "http://example.org/")
    }

    @Test func requestSatisfactionEndsTheChain() throws {
        var chain = REQMODChain(head: self.get, services: self.services)
        _ = chain.start()
        let page = HTTPResponseHead(version: .http1_1, status: .forbidden)
        guard case .finished(.respond(let head, let body)) = chain.answered(try self.answer(200, response: page))
        else { Issue.record("expected respond"); return }
        #expect(head.status == .forbidden)
        #expect(String(buffer: body) == "page")
    }

    @Test func aFailureIsBypassedOnlyWhereAllowed() throws {
        var chain = REQMODChain(head: self.get, services: self.services)
        _ = chain.start()
        guard case .ask(1, _, _) = chain.answered(.failure(.timeout)) else {
            Issue.record("bypass=on should go on"); return
        }
        guard case .finished(.fail(let error, "b")) = chain.answered(.failure(.closed)) else {
            Issue.record("bypass=off should fail"); return
        }
        #expect(error == .closed)
        #expect(chain.notes == ["a:timeout", "b:closed"])
    }

    @Test func a200WithNoHeadsIsAFailure() throws {
        var chain = REQMODChain(head: self.get, services: [.init(name: "x", bypass: false)])
        _ = chain.start()
        guard case .finished(.fail) = chain.answered(try self.answer(200)) else {
            Issue.record("expected fail"); return
        }
    }

    @Test func aBodyTravelsAndTheServicesBodyReplacesIt() throws {
        var chain = REQMODChain(head: self.get, body: ByteBuffer(string: "old"), services: self.services)
        guard case .ask(0, _, let body) = chain.start() else { Issue.record("expected ask"); return }
        #expect(body.map { String(buffer: $0) } == "old")
        let heads = try ICAPEncapsulatedHeads(request: self.get, body: .requestBody)
        let answer = ICAPClientResponse(
            head: ICAPResponseHead(status: .ok, headers: ["ISTag": "\"t\""]), heads: heads,
            body: ByteBuffer(string: "new"))
        guard case .ask(1, _, let next) = chain.answered(.success(answer)) else { Issue.record("expected ask"); return }
        #expect(next.map { String(buffer: $0) } == "new")
        guard case .finished(.forward(_, let final, true)) = chain.answered(try self.answer(204)) else {
            Issue.record("expected a modified forward"); return
        }
        #expect(final.map { String(buffer: $0) } == "new")
    }
}
