import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// A request head keeps its field lines as bytes (from the parser) or as NIO's list (adapted
/// heads); both read the same way, and NIO's form is made from either.
struct ClientRequestHeadTests {
    private func fields(of head: ClientRequestHead) -> [String] {
        var out: [String] = []
        head.forEachField { name, value in
            out.append("\(String(decoding: name, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))")
        }
        return out
    }

    private func parsed(_ wire: String) throws -> ClientRequestHead {
        var parser = ClientRequestParser()
        var buffer = ByteBuffer(string: wire)
        guard case .head(let head) = try parser.next(&buffer) else {
            Issue.record("no head")
            throw CancellationError()
        }
        return head
    }

    @Test func aParsedHeadReadsItsFieldLinesInOrder() throws {
        let head = try self.parsed("GET http://e.com/ HTTP/1.1\r\nHost: e.com\r\nAccept:  */* \r\nX-A: 1\r\n\r\n")
        #expect(self.fields(of: head) == ["Host=e.com", "Accept=*/*", "X-A=1"])
        #expect(head.httpHead.headers.map { "\($0.name)=\($0.value)" } == ["Host=e.com", "Accept=*/*", "X-A=1"])
        #expect(head.httpHead.uri == "http://e.com/")
        // The field lines as read, empty line included: room enough to write them again.
        #expect(head.fieldBytes == "Host: e.com\r\nAccept:  */* \r\nX-A: 1\r\n\r\n".utf8.count)
    }

    @Test func aHeadInNIOsFormReadsTheSame() {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "e.com")
        headers.add(name: "Content-Length", value: "5")
        let head = ClientRequestHead(
            HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://e.com/", headers: headers))
        #expect(self.fields(of: head) == ["Host=e.com", "Content-Length=5"])
        #expect(head.fields.contentLength == 5)
        #expect(head.httpHead.headers == headers)
        #expect(head.fieldBytes == "Host: e.com\r\nContent-Length: 5\r\n".utf8.count)
    }

    @Test func aHeadWithoutFieldsHasNone() throws {
        let head = try self.parsed("GET http://e.com/ HTTP/1.0\r\n\r\n")
        #expect(self.fields(of: head).isEmpty)
        #expect(head.httpHead.headers.isEmpty)
    }
}
