import NIOCore
import Testing

@testable import Proxy

/// Parses a whole head for tests that need one.
func originHead(_ text: String) -> OriginResponseHead {
    var parser = OriginResponseParser()
    parser.expectResponse(requestWasHEAD: false)
    var buffer = ByteBuffer(string: text)
    switch try? parser.next(&buffer) {
    case .head(let head), .informational(let head): return head
    default: fatalError("not a head: \(text)")
    }
}

struct OriginResponseParserTests {
    /// Every event the parser produces for `wire`, fed whole or one byte at a time.
    private func events(_ wire: String, head: Bool = false, byteByByte: Bool) throws -> [String] {
        var parser = OriginResponseParser(maxHeadBytes: 1024)
        parser.expectResponse(requestWasHEAD: head)
        var out: [String] = []
        var body = ""
        func drain(_ buffer: inout ByteBuffer) throws {
            while let event = try parser.next(&buffer) {
                switch event {
                case .head(let h): out.append("head \(h.status)")
                case .informational(let h): out.append("info \(h.status)")
                case .body(let b): body += String(buffer: b)
                case .end:
                    if !body.isEmpty { out.append("body \(body)") }
                    body = ""
                    out.append("end")
                }
            }
        }
        if byteByByte {
            var pending = ByteBuffer()
            for byte in wire.utf8 {
                pending.writeInteger(byte)
                try drain(&pending)
                pending.discardReadBytes()
            }
        } else {
            var buffer = ByteBuffer(string: wire)
            try drain(&buffer)
        }
        if !body.isEmpty { out.append("body \(body)") }
        return out
    }

    @Test(arguments: [false, true])
    func contentLengthBody(byteByByte: Bool) throws {
        #expect(
            try self.events(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", byteByByte: byteByByte)
                == ["head 200", "body hello", "end"])
    }

    @Test(arguments: [false, true])
    func chunkedBodyWithExtensionsAndTrailers(byteByByte: Bool) throws {
        let wire =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world..!\r\n0\r\nX-Trailer: t\r\n\r\n"
        #expect(try self.events(wire, byteByByte: byteByByte) == ["head 200", "body hello, world..!", "end"])
    }

    @Test(arguments: [false, true])
    func bareLineFeedsAreAccepted(byteByByte: Bool) throws {
        #expect(
            try self.events("HTTP/1.0 200 OK\nContent-Length: 2\n\nok", byteByByte: byteByByte) == [
                "head 200", "body ok", "end",
            ])
    }

    @Test(arguments: [false, true])
    func mixedLineEndsAndLeadingEmptyLinesAreAccepted(byteByByte: Bool) throws {
        #expect(
            try self.events("\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\r\nhi", byteByByte: byteByByte)
                == ["head 200", "body hi", "end"])
    }

    @Test func theContentTypeIsAViewOfTheHeadsOwnBytes() {
        let head = originHead(
            "HTTP/1.1 200 OK\r\nServer: t\r\ncontent-type:  application/octet-stream \r\nContent-Length: 0\r\n\r\n")
        #expect(head.contentType.map { String(buffer: $0) } == "application/octet-stream")
        #expect(originHead("HTTP/1.1 204 No Content\r\n\r\n").contentType == nil)
    }

    @Test func headAnd204And304HaveNoBody() throws {
        #expect(
            try self.events("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head: true, byteByByte: false) == [
                "head 200", "end",
            ])
        #expect(try self.events("HTTP/1.1 204 No Content\r\n\r\n", byteByByte: false) == ["head 204", "end"])
        #expect(
            try self.events("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", byteByByte: false) == [
                "head 304", "end",
            ])
    }

    @Test func continueComesBeforeTheFinalHead() throws {
        #expect(
            try self.events(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", byteByByte: true)
                == ["info 100", "head 201", "end"])
    }

    @Test func readUntilCloseTakesEverything() throws {
        #expect(
            try self.events("HTTP/1.1 200 OK\r\n\r\nall of it", byteByByte: false) == ["head 200", "body all of it"])
    }

    @Test func switchingProtocolsLeavesTheRestUnread() throws {
        var parser = OriginResponseParser()
        parser.expectResponse(requestWasHEAD: false)
        var buffer = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframe-bytes")
        guard case .head(let head) = try parser.next(&buffer) else { Issue.record("no head"); return }
        #expect(head.status == 101)
        #expect(head.fields.upgrade == "websocket")
        #expect(try parser.next(&buffer) == nil)
        #expect(String(buffer: buffer) == "frame-bytes")
    }

    @Test func fieldsAreReadInPlace() throws {
        let head = originHead(
            "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nX-A:  spaced value  \r\nConnection: keep-alive, X-A\r\n\r\n")
        var seen: [String] = []
        head.forEachField { name, value in
            seen.append("\(String(decoding: name, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))")
        }
        #expect(seen == ["Server=nginx", "X-A=spaced value", "Connection=keep-alive, X-A"])
        #expect(head.fields.connectionKeepAlive)
        #expect(head.fields.connectionListed == ["X-A"])
        #expect(head.fields.isDropped(name: "x-a".utf8))
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", OriginResponseError.badStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", OriginResponseError.badStatusLine),
        ("HTTP/1.1 20 OK\r\n\r\n", OriginResponseError.badStatusLine),
        ("garbage\r\n\r\n", OriginResponseError.badStatusLine),
        ("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", OriginResponseError.badField),
        ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", OriginResponseError.badField),
        ("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", OriginResponseError.badField),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            OriginResponseError.badFraming("conflicting Content-Length values")
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            OriginResponseError.badFraming("both Content-Length and Transfer-Encoding")
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            OriginResponseError.badChunk("chunk size is not hexadecimal")
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n",
            OriginResponseError.badChunk("data longer than its size")
        ),
    ])
    func malformedResponsesAreRefused(wire: String, error: OriginResponseError) {
        for byteByByte in [false, true] {
            #expect(throws: error, "\(wire.debugDescription)") { try self.events(wire, byteByByte: byteByByte) }
        }
    }

    @Test func anOversizeHeadIsRefusedBeforeItEnds() {
        #expect(throws: OriginResponseError.headTooLarge(1024)) {
            try self.events("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 2000), byteByByte: false)
        }
    }

    @Test func bytesNobodyAskedForAreAnError() {
        var parser = OriginResponseParser()
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n")
        #expect(throws: OriginResponseError.unsolicited) { try parser.next(&buffer) }
    }
}

extension OriginResponseEvent: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.end, .end): return true
        case (.body(let a), .body(let b)): return a == b
        default: return false
        }
    }
}
