import NIOCore
import NIOHTTP1
import Testing

@testable import ICAP

struct HTTPHeadBytesTests {
    @Test func parsesARequestHeadExactly() throws {
        let head = try HTTPHeadBytes.parseRequestHead(
            ByteBuffer(string: "POST http://e.com/a?b=c HTTP/1.1\r\nHost: e.com\r\nX-Empty:\r\nX-Pad:  v  \r\n\r\n"))
        #expect(head.method == .POST)
        #expect(head.uri == "http://e.com/a?b=c")
        #expect(head.version == .http1_1)
        #expect(Array(head.headers.map { "\($0.name)=\($0.value)" }) == ["Host=e.com", "X-Empty=", "X-Pad=v"])
    }

    @Test func keepsAnUnknownMethod() throws {
        let head = try HTTPHeadBytes.parseRequestHead(ByteBuffer(string: "PURGE /x HTTP/1.0\r\n\r\n"))
        #expect(head.method == .RAW(value: "PURGE"))
    }

    @Test func parsesAResponseHeadExactly() throws {
        let head = try HTTPHeadBytes.parseResponseHead(
            ByteBuffer(string: "HTTP/1.0 501 Not Implemented\r\nContent-Length: 357\r\n\r\n"))
        #expect(head.status == .notImplemented)
        #expect(head.status.reasonPhrase == "Not Implemented")
        #expect(head.version == .http1_0)
        #expect(head.headers["content-length"] == ["357"])
        let bare = try HTTPHeadBytes.parseResponseHead(ByteBuffer(string: "HTTP/1.1 299\r\n\r\n"))
        #expect(bare.status.code == 299)
        #expect(bare.status.reasonPhrase == "")
    }

    @Test func serialisesHeadsThatParseBackTheSame() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "e.com")
        headers.add(name: "Accept", value: "*/*")
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://e.com/", headers: headers)
        let requestBytes = try HTTPHeadBytes.serialize(request)
        #expect(String(buffer: requestBytes) == "GET http://e.com/ HTTP/1.1\r\nHost: e.com\r\nAccept: */*\r\n\r\n")
        #expect(try HTTPHeadBytes.parseRequestHead(requestBytes) == request)

        let response = HTTPResponseHead(version: .http1_1, status: .forbidden, headers: ["Content-Length": "0"])
        let responseBytes = try HTTPHeadBytes.serialize(response)
        #expect(String(buffer: responseBytes) == "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        #expect(try HTTPHeadBytes.parseResponseHead(responseBytes) == response)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: e\r\n", 25, "the head does not end with an empty line (CRLF CRLF)"),
        ("GET / HTTP/1.1\nHost: e\r\n\r\n", 14, "bare LF (lines must end in CRLF)"),
        ("GET / HTTP/1.1\r\nHost: e\r\n\n", 25, "bare LF (lines must end in CRLF)"),
        ("GET / HTTP/1.1\r\nHost: e\r\r\n\r\n", 23, "CR not followed by LF"),
        ("GET / HTTP/1.1\r\n\r\nX", 18, "bytes after the empty line"),
        ("GET / HTTP/1.1\r\n\r\n\r\n", 18, "bytes after the empty line"),
        ("\r\nGET / HTTP/1.1\r\n\r\n", 0, "empty start line"),
        ("GET /  HTTP/1.1\r\n\r\n", 0, "request line \"GET /  HTTP/1.1\""),
        ("GET\r\n\r\n", 0, "request line \"GET\""),
        ("G(T / HTTP/1.1\r\n\r\n", 0, "request line \"G(T / HTTP/1.1\""),
        ("GET / HTTP/11\r\n\r\n", 6, "version \"HTTP/11\""),
        ("GET / ICAP/1.0\r\n\r\n", 6, "version \"ICAP/1.0\""),
        ("GET / HTTP/1.1\r\nNo colon\r\n\r\n", 16, "field line \"No colon\""),
        ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 16, "field line \"Bad Name: x\""),
        ("GET / HTTP/1.1\r\n folded: x\r\n\r\n", 16, "field line \" folded: x\""),
        ("GET / HTTP/1.1\r\n: x\r\n\r\n", 16, "field line \": x\""),
        ("GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n", 16, "control bytes in field X"),
        ("", 0, "the head does not end with an empty line (CRLF CRLF)"),
    ])
    func malformedRequestHeadsAreErrorsNotCrashes(text: String, offset: Int, problem: String) {
        #expect(throws: ICAPParseError.badHTTPHead("req-hdr", offset: offset, problem)) {
            try HTTPHeadBytes.parseRequestHead(ByteBuffer(string: text))
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", "status line \"HTTP/1.1 20 OK\""),
        ("HTTP/1.1 2000\r\n\r\n", "status line \"HTTP/1.1 2000\""),
        ("HTTP/1.1 099 Low\r\n\r\n", "status line \"HTTP/1.1 099 Low\""),
        ("HTTP/1.1\r\n\r\n", "status line \"HTTP/1.1\""),
        ("HTTP/1.1 200 O\u{7F}K\r\n\r\n", "status line \"HTTP/1.1 200 O\\u{7F}K\""),
        ("ICAP/1.0 200 OK\r\n\r\n", "version \"ICAP/1.0\""),
    ])
    func malformedResponseHeadsAreErrorsNotCrashes(text: String, problem: String) {
        #expect(throws: ICAPParseError.badHTTPHead("res-hdr", offset: 0, problem)) {
            try HTTPHeadBytes.parseResponseHead(ByteBuffer(string: text))
        }
    }

    @Test func headsThatWouldBreakTheFramingAreNotWritten() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Smuggle", value: "a\r\nEvil: yes")
        #expect(throws: ICAPEncoderError.invalidField(name: "X-Smuggle")) {
            try HTTPHeadBytes.serialize(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers))
        }
        #expect(throws: ICAPEncoderError.invalidStartLine("the HTTP request target \"/ HTTP/1.1\\r\\nX: y\"")) {
            try HTTPHeadBytes.serialize(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ HTTP/1.1\r\nX: y"))
        }
        #expect(throws: ICAPEncoderError.invalidStartLine("the HTTP method \"G T\"")) {
            try HTTPHeadBytes.serialize(HTTPRequestHead(version: .http1_1, method: .RAW(value: "G T"), uri: "/"))
        }
        #expect(throws: ICAPEncoderError.invalidStartLine("the HTTP status 299 \"OK\\r\\n\"")) {
            try HTTPHeadBytes.serialize(
                HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: 299, reasonPhrase: "OK\r\n"))
            )
        }
    }
}
