import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

struct ResponseSerializerTests {
    private let allocator = ByteBufferAllocator()

    private func plan(chunked: Bool) -> ResponsePlan {
        ResponsePlan(
            head: originHead("HTTP/1.1 200 OK\r\n\r\n"), originFraming: .untilClose,
            clientFraming: chunked ? .chunked : .untilClose, keepClientAlive: true, originReusable: false,
            switchesProtocols: false, dropsContentLength: true, addsChunked: chunked, connection: nil, upgrade: nil,
            via: "1.1 portcullis")
    }

    @Test func headIsWrittenAsWireBytes() {
        let head = HTTPResponseHead(
            version: .http1_1, status: .notFound,
            headers: HTTPHeaders([("Content-Length", "0"), ("Via", "1.1 portcullis")]))
        #expect(
            String(buffer: ResponseSerializer.encode(head, allocator: self.allocator))
                == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nVia: 1.1 portcullis\r\n\r\n")
        let custom = HTTPResponseHead(
            version: .http1_1, status: .custom(code: 431, reasonPhrase: "Request Header Fields Too Large"))
        #expect(
            String(buffer: ResponseSerializer.encode(custom, allocator: self.allocator))
                == "HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
    }

    @Test func fieldLinesGoAsTheyCameWhenCanonicalAndNormalisedOtherwise() {
        let expected =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: b\r\nContent-Length: 2\r\n"
            + "Via: 1.1 portcullis\r\n\r\n"
        let variants: [(String, Bool)] = [
            ("Content-Type: text/plain\r\nX-A: b\r\nContent-Length: 2\r\n", true),
            ("Content-Type:text/plain\r\nX-A:  b \r\nContent-Length: 2\r\n", false),
            ("Content-Type: text/plain\nX-A: b\nContent-Length: 2\n", false),
            ("Content-Type : text/plain\r\nX-A: b\r\nContent-Length: 2\r\n", false),
        ]
        for (fields, canonical) in variants {
            let head = originHead("HTTP/1.1 200 OK\r\n" + fields + "\r\n")
            #expect(head.fieldLinesAreCanonical == canonical, "\(fields)")
            let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
            #expect(String(buffer: ResponseSerializer.encode(plan, allocator: self.allocator)) == expected, "\(fields)")
        }
    }

    @Test func droppedLinesAreLeftOutOfACopiedHeadWhereverTheyAre() {
        let kept = "Server: nginx\r\nContent-Type: text/plain\r\nETag: \"1\"\r\n"
        let expected = "HTTP/1.1 200 OK\r\n" + kept + "Via: 1.1 portcullis\r\n\r\n"
        let variants = [
            "Connection: keep-alive\r\nServer: nginx\r\nContent-Type: text/plain\r\nETag: \"1\"\r\n",
            "Server: nginx\r\nContent-Type: text/plain\r\nKeep-Alive: timeout=5\r\nETag: \"1\"\r\n",
            "Server: nginx\r\nContent-Type: text/plain\r\nETag: \"1\"\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n",
            "Server: nginx\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nETag: \"1\"\r\n",
        ]
        for fields in variants {
            let head = originHead("HTTP/1.1 200 OK\r\n" + fields + "\r\n")
            #expect(head.isCanonical)
            let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
            let bytes = String(buffer: ResponseSerializer.encode(plan, allocator: self.allocator))
            #expect(bytes.replacingOccurrences(of: "Transfer-Encoding: chunked\r\n", with: "") == expected, "\(fields)")
        }
        // A status line the proxy would write differently is rewritten, not copied.
        let old = originHead("HTTP/1.0 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nETag: \"1\"\r\n\r\n")
        #expect(!old.isCanonical)
        let plan = ResponsePlanner.plan(old, for: .fixture(), via: ViaEntries(name: "portcullis"))
        #expect(
            String(buffer: ResponseSerializer.encode(plan, allocator: self.allocator)).hasPrefix(
                "HTTP/1.1 200 OK\r\nServer: nginx\r\n"))
    }

    @Test func hopByHopLinesAreCopiedAroundWhereTheParserSawThem() {
        // The parser notes where the first two hop-by-hop lines are; with more, every line is
        // looked at again. Each count, at the start, middle and end of the head, drops the same.
        let kept = ["Server: nginx", "Content-Length: 2", "ETag: \"1\""]
        let hops = ["Connection: keep-alive", "Keep-Alive: timeout=5", "Proxy-Authenticate: Basic", "TE: trailers"]
        for count in 0...hops.count {
            for position in 0...kept.count {
                var fields = kept
                fields.insert(contentsOf: hops.prefix(count), at: position)
                let head = originHead("HTTP/1.1 200 OK\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n")
                #expect(head.isCanonical && head.hopByHopLines.count == count)
                let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
                #expect(
                    String(buffer: ResponseSerializer.encode(plan, allocator: self.allocator))
                        == "HTTP/1.1 200 OK\r\n" + kept.map { $0 + "\r\n" }.joined() + "Via: 1.1 portcullis\r\n\r\n",
                    "\(count) hop-by-hop lines at \(position)")
            }
        }
    }

    @Test func linesPastTheSixtyFourthAreDroppedAsWellAsTheFirst() {
        // The parser marks the first 64 lines whose names it knows; past that every name is
        // looked at again. Both must drop the same lines.
        for count in [10, 63, 64, 65, 70] {
            var fields: [String] = (0..<count).map { "X-\($0): v" }
            fields[1] = "Connection: keep-alive, X-Listed"
            fields[count - 2] = "Keep-Alive: timeout=5"
            fields[count - 1] = "X-Listed: 1"
            let head = originHead("HTTP/1.1 200 OK\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n")
            #expect(head.isCanonical)
            #expect((head.recognisedLines == nil) == (count > 64))
            let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
            // (No length: the client gets the body chunked.)
            let bytes = String(buffer: ResponseSerializer.encode(plan, allocator: self.allocator))
                .replacingOccurrences(of: "Transfer-Encoding: chunked\r\n", with: "")
            let kept = fields.enumerated().filter { ![1, count - 2, count - 1].contains($0.offset) }.map { $0.element }
            #expect(
                bytes == "HTTP/1.1 200 OK\r\n" + kept.map { $0 + "\r\n" }.joined() + "Via: 1.1 portcullis\r\n\r\n",
                "\(count) lines")
        }
        // Without a name listed in Connection only the recognised lines are looked at.
        let head = originHead("HTTP/1.1 200 OK\r\nServer: n\r\nConnection: close\r\nETag: \"1\"\r\n\r\n")
        #expect(head.recognisedLines == 0b010)
    }

    @Test func theMeasuredCapacityHoldsTheWholeHead() {
        // A head the proxy copies whole (nothing dropped) plus its own fields must fit in the
        // capacity it measures: a held response is written into storage of that size, its body
        // after the head. Allocations are rounded up to a power of two, so the head is sized
        // (160 bytes) for the copy with the proxy's fields to pass 256 bytes: a measure short by
        // the `Via` field made the buffer grow here.
        let start = "HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Pad: "
        let pad = String(repeating: "p", count: 160 - start.utf8.count - 4)
        let head = originHead(start + pad + "\r\n\r\n")
        #expect(head.isCanonical && head.bytes.readableBytes == 160)
        let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
        var buffer = self.allocator.buffer(capacity: ResponseSerializer.capacity(for: plan))
        let capacity = buffer.capacity
        ResponseSerializer.encode(plan, into: &buffer)
        #expect(buffer.capacity == capacity)
        #expect(
            String(buffer: buffer) == start + pad + "\r\nTransfer-Encoding: chunked\r\nVia: 1.1 portcullis\r\n\r\n")
    }

    @Test func chunkedBodiesAreFramedExactly() {
        var serializer = ResponseSerializer()
        _ = serializer.head(self.plan(chunked: true), allocator: self.allocator)
        var wire = ""
        for part in ["hello", "", String(repeating: "x", count: 300)] {
            let buffer = ByteBuffer(string: part)
            if let prefix = serializer.chunkPrefix(for: buffer, allocator: self.allocator) {
                wire += String(buffer: prefix)
            }
            wire += part
        }
        wire += serializer.end(allocator: self.allocator).map { String(buffer: $0) } ?? ""
        #expect(wire == "5\r\nhello\r\n12c\r\n" + String(repeating: "x", count: 300) + "\r\n0\r\n\r\n")
    }

    @Test func anEmptyChunkedBodyIsJustTheLastChunk() {
        var serializer = ResponseSerializer()
        _ = serializer.head(self.plan(chunked: true), allocator: self.allocator)
        #expect(serializer.end(allocator: self.allocator).map { String(buffer: $0) } == "0\r\n\r\n")
    }

    @Test func unchunkedBodiesPassAsTheyAre() {
        var serializer = ResponseSerializer()
        _ = serializer.head(self.plan(chunked: false), allocator: self.allocator)
        #expect(serializer.chunkPrefix(for: ByteBuffer(string: "abc"), allocator: self.allocator) == nil)
        #expect(serializer.end(allocator: self.allocator) == nil)
    }
}
