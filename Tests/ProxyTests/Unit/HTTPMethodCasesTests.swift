import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// The case tests agree with `==` for every method a parser makes, the named ones and others.
struct HTTPMethodCasesTests {
    @Test func eachCaseTestIsTrueForItsMethodOnly() {
        let names = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI", "BREW"]
        for name in names {
            let method = HTTPMethod(rawValue: name)
            #expect(method.isCONNECT == (name == "CONNECT"), "\(name)")
            #expect(method.isHEAD == (name == "HEAD"), "\(name)")
            #expect(method.isOPTIONS == (name == "OPTIONS"), "\(name)")
            #expect(method.isTRACE == (name == "TRACE"), "\(name)")
        }
    }

    /// The request parser gives the named case, which the tests rely on.
    @Test func theParserGivesNamedCases() throws {
        var parser = ClientRequestParser(maxHeadBytes: 1024)
        var bytes = ByteBuffer(string: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        guard case .head(let head)? = try parser.next(&bytes) else {
            Issue.record("no head")
            return
        }
        #expect(head.method.isCONNECT)
    }
}
