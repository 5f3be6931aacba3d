import NIOCore
import Testing

@testable import Proxy

struct ClientRequestParserTests {
    /// Every event the parser produces for `wire` (fed whole, or one byte at a time), then the
    /// bytes it left unparsed.
    private func parse(
        _ wire: String, byteByByte: Bool, maxHeadBytes: Int = 1024
    ) throws -> (
        events: [String], left: String
    ) {
        var parser = ClientRequestParser(maxHeadBytes: maxHeadBytes)
        var out: [String] = []
        var body = ""
        func drain(_ buffer: inout ByteBuffer) throws {
            while let event = try parser.next(&buffer) {
                switch event {
                case .head(let head):
                    var line = "\(head.method.rawValue) \(head.uri) \(head.version.major).\(head.version.minor)"
                    head.forEachField { name, value in
                        line += " [\(String(decoding: name, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))]"
                    }
                    if let length = head.fields.contentLength { line += " cl=\(length)" }
                    if head.fields.isChunked { line += " chunked" }
                    out.append(line)
                case .body(let bytes): body += String(buffer: bytes)
                case .end:
                    if !body.isEmpty { out.append("body \(body)") }
                    body = ""
                    out.append("end")
                }
            }
        }
        var pending = ByteBuffer()
        if byteByByte {
            for byte in wire.utf8 {
                pending.writeInteger(byte)
                try drain(&pending)
                pending.discardReadBytes()
            }
        } else {
            pending = ByteBuffer(string: wire)
            try drain(&pending)
        }
        return (out, String(buffer: pending))
    }

    @Test(arguments: [false, true])
    func bodilessRequestsInARow(byteByByte: Bool) throws {
        let wire =
            "GET http://e.com/a HTTP/1.1\r\nHost: e.com\r\nAccept:  */* \r\n\r\n"
            + "\r\nHEAD http://e.com/b HTTP/1.0\r\n\r\n"
        #expect(
            try self.parse(wire, byteByByte: byteByByte).events == [
                "GET http://e.com/a 1.1 [Host=e.com] [Accept=*/*]", "end", "HEAD http://e.com/b 1.0", "end",
            ])
    }

    @Test(arguments: [false, true])
    func contentLengthBodyThenTheNextRequest(byteByByte: Bool) throws {
        let wire =
            "POST http://e.com/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET http://e.com/ HTTP/1.1\r\n\r\n"
        #expect(
            try self.parse(wire, byteByByte: byteByByte).events == [
                "POST http://e.com/ 1.1 [Content-Length=5] cl=5", "body hello", "end", "GET http://e.com/ 1.1", "end",
            ])
    }

    @Test(arguments: [false, true])
    func chunkedBodyWithExtensionsAndTrailers(byteByByte: Bool) throws {
        let wire =
            "PUT http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\n!\n0\r\nX-Trailer: yes\r\n\r\n"
        #expect(
            try self.parse(wire, byteByByte: byteByByte).events == [
                "PUT http://e.com/ 1.1 [Transfer-Encoding=chunked] chunked", "body hello!", "end",
            ])
    }

    @Test(arguments: [false, true])
    func connectLeavesTheTunnelBytesUnparsed(byteByByte: Bool) throws {
        let parsed = try self.parse(
            "CONNECT e.com:443 HTTP/1.1\r\nHost: e.com:443\r\n\r\n\u{16}\u{03}\u{01}GET / HTTP/1.1\r\n\r\n",
            byteByByte: byteByByte)
        #expect(parsed.events == ["CONNECT e.com:443 1.1 [Host=e.com:443]", "end"])
        #expect(parsed.left == "\u{16}\u{03}\u{01}GET / HTTP/1.1\r\n\r\n")
    }

    @Test(arguments: [false, true])
    func aProtocolSwitchStopsParsingAfterTheRequest(byteByByte: Bool) throws {
        let parsed = try self.parse(
            "GET http://e.com/ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\u{81}\u{05}hello",
            byteByByte: byteByByte)
        #expect(parsed.events == ["GET http://e.com/ws 1.1 [Connection=Upgrade] [Upgrade=websocket]", "end"])
        #expect(parsed.left == "\u{81}\u{05}hello")
    }

    @Test func uncommonMethodsAreKeptAsSent() throws {
        #expect(
            try self.parse("PROPFIND http://e.com/ HTTP/1.1\r\n\r\n", byteByByte: false).events.first
                == "PROPFIND http://e.com/ 1.1")
        #expect(
            try self.parse("get http://e.com/ HTTP/1.1\r\n\r\n", byteByByte: false).events.first
                == "get http://e.com/ 1.1")
    }

    @Test(arguments: [
        ("GARBAGE\r\n\r\n", "malformed request line"),
        ("GET http://e.com/\r\n\r\n", "malformed request line"),
        ("GET  http://e.com/ HTTP/1.1\r\n\r\n", "malformed request line"),
        ("GET http://e.com/ HTTP/1.1 \r\n\r\n", "malformed request line"),
        ("GET http://e.com/ HTTP/11\r\n\r\n", "malformed request line"),
        ("G(T http://e.com/ HTTP/1.1\r\n\r\n", "malformed request line"),
        ("GET http://e.com/\u{7F} HTTP/1.1\r\n\r\n", "malformed request line"),
        ("GET http://e.com/ HTTP/1.1\r\nHost e.com\r\n\r\n", "malformed header field"),
        ("GET http://e.com/ HTTP/1.1\r\nHost : e.com\r\n\r\n", "malformed header field"),
        ("GET http://e.com/ HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", "malformed header field"),
        ("GET http://e.com/ HTTP/1.1\r\nX-A: a\u{01}b\r\n\r\n", "malformed header field"),
        (
            "POST http://e.com/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "invalid request framing: both Content-Length and Transfer-Encoding"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "invalid request framing: conflicting Content-Length values"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "invalid request framing: only Transfer-Encoding: chunked is supported"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "malformed chunked body: chunk size is not hexadecimal"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
            "malformed chunked body: data longer than its size"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
            "malformed chunked body: chunk size missing or too large"
        ),
        (
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(repeating: "1", count: 4097) + "\r\n",
            "malformed chunked body: line longer than 4096 bytes"
        ),
        (
            // Trailers are dropped, but not read for ever: 12 lines of 6 KB pass the 64 KiB cap.
            "POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                + String(repeating: "X-T: " + String(repeating: "a", count: 6000) + "\r\n", count: 12),
            "malformed chunked body: trailers longer than 65536 bytes"
        ),
    ])
    func malformedRequestsAreRefusedWithTheReason(wire: String, reason: String) throws {
        for byteByByte in [false, true] {
            #expect {
                _ = try self.parse(wire, byteByByte: byteByByte)
            } throws: { error in
                (error as? ClientRequestError)?.description == reason
            }
        }
    }

    /// A target with raw non-ASCII bytes: UTF-8 passes as it is; anything else is refused (it
    /// would have been rewritten with U+FFFD on its way to the origin).
    @Test func aTargetThatIsNotUTF8IsRefused() throws {
        func parse(_ target: [UInt8]) throws -> ClientRequestEvent? {
            var parser = ClientRequestParser()
            var buffer = ByteBuffer(bytes: Array("GET ".utf8) + target + Array(" HTTP/1.1\r\nHost: e.com\r\n\r\n".utf8))
            return try parser.next(&buffer)
        }
        guard case .head(let head) = try parse(Array("http://e.com/caf".utf8) + [0xC3, 0xA9]) else {
            Issue.record("no head")
            return
        }
        #expect(Array(head.uri.utf8) == Array("http://e.com/caf".utf8) + [0xC3, 0xA9])
        #expect {
            _ = try parse(Array("http://e.com/caf".utf8) + [0xE9])
        } throws: { error in
            (error as? ClientRequestError)?.description
                == "request target is not UTF-8 (non-ASCII bytes in a URL must be percent-encoded)"
        }
    }

    @Test(arguments: [false, true])
    func aHeadLargerThanTheLimitIsRefusedBeforeItEnds(byteByByte: Bool) throws {
        let wire = "GET http://e.com/ HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 2000)
        #expect {
            _ = try self.parse(wire, byteByByte: byteByByte)
        } throws: { error in
            (error as? ClientRequestError)?.isHeadTooLarge == true
        }
    }

    @Test func afterAnErrorNothingMoreIsParsed() throws {
        var parser = ClientRequestParser()
        var buffer = ByteBuffer(string: "BAD\r\n\r\nGET http://e.com/ HTTP/1.1\r\n\r\n")
        #expect(throws: ClientRequestError.self) { _ = try parser.next(&buffer) }
        guard case .failed = parser.state else {
            Issue.record("the parser is not failed")
            return
        }
        #expect(throws: ClientRequestError.self) { _ = try parser.next(&buffer) }
    }
}
